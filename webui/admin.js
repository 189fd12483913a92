// admin.js - administration for system admins: users, system robot accounts, the audit log.
import { api } from './api.js';
import { h, field, timeEl, pagedTable, openDialog, confirmDialog, notify } from './dom.js';
import { robotTable, createRobotDialog, logTable } from './project.js';

export async function render(main, ctx, tab) {
    ctx.setTitle('Administration');
    if (!ctx.user.sysadmin_flag) {
        main.appendChild(h('div', { class: 'panel' }, h('h1', null, 'Administration'), h('p', null, 'Only system administrators may see this page.')));
        return;
    }
    const tabs = [['users', 'Users'], ['robots', 'Robot accounts'], ['logs', 'Audit log']];
    if (!tabs.some((t) => t[0] === tab)) tab = 'users';
    main.append(h('div', { class: 'page-head' }, h('h1', null, 'Administration')),
        h('nav', { class: 'tabs', 'aria-label': 'Administration sections' },
            tabs.map(([k, label]) => h('a', { href: `#/admin/${k}`, class: 'tab', 'aria-current': k === tab ? 'page' : null }, label))));
    const section = h('section', { class: 'panel', 'aria-label': tabs.find((t) => t[0] === tab)[1] });
    main.appendChild(section);
    await ({ users, robots, logs })[tab](section, ctx);
}

async function users(el, ctx) {
    const table = pagedTable({
        caption: 'Users',
        searchLabel: 'Search users by name',
        sort: 'username',
        rowKey: (u) => u.username,
        load: (o) => api.users(o),
        cols: [
            { label: 'User name', sort: 'username', render: (u) => h('span', { class: 'strong' }, u.username) },
            { label: 'Full name', render: (u) => h('span', { class: 'realname' }, u.realname) },
            { label: 'Email', render: (u) => u.email },
            {
                label: 'System admin',
                render: (u) => {
                    const box = h('input', { type: 'checkbox', checked: u.sysadmin_flag, 'aria-label': `${u.username} is a system admin`, disabled: u.user_id === ctx.user.user_id });
                    box.addEventListener('change', async () => {
                        try {
                            await api.setSysadmin(u.user_id, box.checked);
                            notify(`${u.username} is ${box.checked ? 'now' : 'no longer'} a system admin.`);
                        } catch (e) {
                            box.checked = !box.checked;
                            notify(e.message, 'error');
                        }
                    });
                    return box;
                },
            },
            { label: 'Created', sort: 'creation_time', render: (u) => timeEl(u.creation_time) },
            {
                label: 'Actions',
                render: (u) => h('span', { class: 'inline' },
                    h('button', { type: 'button', class: 'btn small', 'aria-label': `Reset password of ${u.username}`, on: { click: () => resetPassword(ctx, u) } }, 'Reset password'),
                    u.user_id === ctx.user.user_id ? null : h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete user ${u.username}`, on: { click: () => confirmDialog(`Delete user ${u.username}?`, `The user ${u.username} will be deleted and removed from every project.`, `Delete ${u.username}`, async () => {
                        await api.deleteUser(u.user_id);
                        notify(`${u.username} deleted.`);
                        await table.reload();
                    }) } }, 'Delete')),
            },
        ],
    });
    const add = h('button', { type: 'button', class: 'btn primary', id: 'new-user', on: { click: () => createUser(table) } }, 'New user');
    el.append(h('div', { class: 'section-head' }, h('h2', null, 'Users'), add), table.el);
    await table.reload();
}

async function createUser(table) {
    const username = h('input', { name: 'username', required: true, autocomplete: 'off' });
    const realname = h('input', { name: 'realname', autocomplete: 'off' });
    const email = h('input', { name: 'email', type: 'email', autocomplete: 'off' });
    const password = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' });
    await openDialog({
        title: 'New user',
        body: h('div', null, field('User name', username), field('Full name', realname), field('Email', email),
            field('Password', password, 'At least 8 characters with upper and lower case letters and a digit.')),
        submitLabel: 'Create',
        onSubmit: async () => {
            await api.createUser({ username: username.value.trim(), realname: realname.value, email: email.value.trim(), password: password.value });
            notify(`User ${username.value.trim()} created.`);
            await table.reload();
        },
    });
}

async function resetPassword(ctx, u) {
    const pw = h('input', { type: 'password', required: true, autocomplete: 'new-password' });
    await openDialog({
        title: `Reset the password of ${u.username}`,
        body: field('New password', pw, 'At least 8 characters with upper and lower case letters and a digit.'),
        submitLabel: 'Reset password',
        onSubmit: async () => {
            const own = u.user_id === ctx.user.user_id;
            await api.setPassword(u.user_id, { new_password: pw.value }, own);
            notify(`Password of ${u.username} reset.`);
            if (own) ctx.sessionEnded('Your password changed. Log in with the new password.');
        },
    });
}

async function robots(el, ctx) {
    const table = robotTable(ctx, { caption: 'System robot accounts', load: (o) => api.systemRobots(o) });
    const add = h('button', { type: 'button', class: 'btn primary', id: 'new-robot', on: { click: () => createRobotDialog(ctx, { table }) } }, 'New robot account');
    el.append(h('div', { class: 'section-head' }, h('h2', null, 'System robot accounts'), add), table.el);
    await table.reload();
}

async function logs(el) {
    const table = logTable('System audit log', (o) => api.auditLogs(o));
    el.append(h('h2', null, 'Audit log'), table.el);
    await table.reload();
}
