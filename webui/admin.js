// admin.js - administration for system admins: users, system robot accounts, the audit log,
// the system-wide pull report (pulls over time, top repositories and tags, stale artifacts of
// every project), clean up (garbage collection: dry run, run, history with each run's log).
import { api } from './api.js';
import { h, field, timeEl, pagedTable, openDialog, confirmDialog, notify } from './dom.js';
import { robotTable, createRobotDialog, logTable } from './project.js';
import { pullsPanel, topTables, staleTable } from './pulls.js';

export async function render(main, ctx, tab) {
    ctx.setTitle('Administration');
    if (!ctx.user.sysadmin_flag) {
        main.appendChild(h('div', { class: 'panel' }, h('h1', null, 'Administration'), h('p', null, 'Only system administrators may see this page.')));
        return;
    }
    const tabs = [['users', 'Users'], ['robots', 'Robot accounts'], ['logs', 'Audit log'], ['pulls', 'Pulls'], ['gc', 'Clean up']];
    if (!tabs.some((t) => t[0] === tab)) tab = 'users';
    main.append(h('div', { class: 'page-head' }, h('h1', null, 'Administration')),
        h('nav', { class: 'tabs', 'aria-label': 'Administration sections' },
            tabs.map(([k, label]) => h('a', { href: `#/admin/${k}`, class: 'tab', 'aria-current': k === tab ? 'page' : null }, label))));
    const section = h('section', { class: 'panel', 'aria-label': tabs.find((t) => t[0] === tab)[1] });
    main.appendChild(section);
    await ({ users, robots, logs, pulls, gc })[tab](section, ctx);
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

// pulls: the whole registry's pull report
async function pulls(el) {
    const top = topTables(null, 'system');
    const chart = pullsPanel({
        scope: {},
        title: 'Pulls over time, every project',
        idPrefix: 'system-pulls',
        splits: [['repository', 'Repository'], ['user', 'User or robot'], ['client', 'Client']],
        onWindow: (days) => top.reload(days),
    });
    const stale = staleTable(null, 'system');
    el.append(h('h2', { class: 'sr-only' }, 'System pull report'), chart.el, top.el, stale.el);
    await Promise.all([chart.reload(), top.reload(chart.windowDays()), stale.reload()]);
}

// gc: start a dry run or a run (after a confirmation) and show the history; while a run of the
// page shown is pending or running, the table reloads every two seconds until it ends or the
// page is left.
const GC_POLL_MS = 2000;

async function gc(el) {
    let timer = null;
    const table = pagedTable({
        caption: 'Garbage collection runs',
        pageSize: 10,
        rowKey: (r) => String(r.id),
        load: async (o) => {
            const res = await api.gcRuns(o);
            clearTimeout(timer);
            if (res.items.some((r) => r.job_status === 'Pending' || r.job_status === 'Running')) {
                timer = setTimeout(() => {
                    if (el.isConnected) table.reload();
                }, GC_POLL_MS);
            }
            return res;
        },
        empty: 'No garbage collection has run yet.',
        cols: [
            { label: 'Run', render: (r) => h('span', { class: 'strong' }, String(r.id)) },
            { label: 'Status', render: (r) => h('span', { class: `gc-status gc-${r.job_status.toLowerCase()}` }, r.job_status) },
            { label: 'Dry run', render: (r) => (dryRunOf(r) ? 'Yes' : 'No') },
            { label: 'Started', render: (r) => timeEl(r.creation_time) },
            { label: 'Updated', render: (r) => timeEl(r.update_time) },
            { label: 'Log', render: (r) => h('a', { href: api.gcLogUrl(r.id), class: 'gc-log', 'aria-label': `Log of run ${r.id}` }, 'Log') },
        ],
    });
    const start = async (dryRun) => {
        try {
            await api.gcStart(dryRun);
            notify(dryRun ? 'Dry run started: nothing will be removed.' : 'Garbage collection started.');
        } catch (e) {
            notify(e.message, 'error');
        }
        await table.reload();
    };
    const dry = h('button', { type: 'button', class: 'btn', id: 'gc-dry-run', on: { click: () => start(true) } }, 'Dry run');
    const run = h('button', {
        type: 'button', class: 'btn danger', id: 'gc-run',
        on: { click: () => confirmDialog('Run garbage collection?', 'Blobs that no manifest references and that are older than the server\'s window will be deleted for good. A dry run shows first what would go.', 'Run garbage collection', () => start(false)) },
    }, 'Run garbage collection');
    el.append(h('div', { class: 'section-head' }, h('h2', null, 'Clean up'), h('span', { class: 'inline' }, dry, run)),
        h('p', { class: 'muted' }, 'Garbage collection removes image layers and manifests nothing uses any more, while the registry keeps serving. One run at a time.'),
        table.el);
    await table.reload();
}

function dryRunOf(r) {
    try {
        return JSON.parse(r.job_parameters || '{}').dry_run === true;
    } catch (_) {
        return false;
    }
}
