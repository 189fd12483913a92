// projects.js - the projects list: search, sort, paging on the server; create, delete, the
// public/private switch; quota used/limit per row from the project's summary; the image pulls of
// the last 7 days per row (with_pulls: counted by the server for the page shown).
import { api } from './api.js';
import { h, field, checkField, fmtBytes, timeEl, pagedTable, openDialog, confirmDialog, notify } from './dom.js';

function quotaCell(p) {
    const cell = h('span', { class: 'muted' }, '…');
    api.projectSummary(p.name).then((s) => {
        const q = s.quota || {};
        const used = q.used ? q.used.storage : 0;
        const hard = q.hard ? q.hard.storage : -1;
        cell.className = '';
        cell.textContent = `${fmtBytes(used)} / ${hard < 0 ? 'unlimited' : fmtBytes(hard)}`;
    }).catch(() => {
        cell.textContent = '';
    });
    return cell;
}

export async function render(main, ctx) {
    ctx.setTitle('Projects');
    const admin = ctx.user.sysadmin_flag;
    const table = pagedTable({
        caption: 'Projects',
        searchLabel: 'Search projects by name',
        sort: 'name',
        empty: 'No project you can see yet.',
        rowKey: (p) => p.name,
        load: (o) => api.projects({ ...o, withPulls: true }), // 7-day pulls of this page only
        cols: [
            { key: 'name', label: 'Name', sort: 'name', render: (p) => h('a', { href: `#/projects/${encodeURIComponent(p.name)}`, class: 'strong' }, p.name) },
            { key: 'access', label: 'Access', render: (p) => accessCell(ctx, p, table) },
            { key: 'repos', label: 'Repositories', cls: 'num', render: (p) => String(p.repo_count) },
            { key: 'pulls7d', label: 'Pulls (7 days)', cls: 'num pulls-7d', render: (p) => (p.pulls_7d === undefined ? '' : String(p.pulls_7d)) },
            { key: 'quota', label: 'Quota used / limit', render: quotaCell },
            { key: 'created', label: 'Created', sort: 'creation_time', render: (p) => timeEl(p.creation_time) },
            { key: 'actions', label: 'Actions', render: (p) => (canAdmin(ctx, p) ? h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete project ${p.name}`, on: { click: () => removeProject(p, table) } }, 'Delete') : '') },
        ],
    });
    const newBtn = admin ? h('button', { type: 'button', class: 'btn primary', id: 'new-project', on: { click: () => createProject(ctx, table) } }, 'New project') : null;
    main.append(h('div', { class: 'page-head' }, h('h1', null, 'Projects'), newBtn), h('section', { class: 'panel' }, table.el));
    await table.reload();
}

function canAdmin(ctx, p) {
    return ctx.user.sysadmin_flag || p.current_user_role_id === 1;
}

function accessCell(ctx, p, table) {
    const pub = p.metadata && p.metadata.public === 'true';
    const badge = h('span', { class: pub ? 'badge public' : 'badge private' }, pub ? 'public' : 'private');
    if (!canAdmin(ctx, p)) return badge;
    const sw = h('button', { type: 'button', class: 'btn small', 'aria-label': `${pub ? 'Make private' : 'Make public'} (${p.name})` }, pub ? 'Make private' : 'Make public');
    sw.addEventListener('click', async () => {
        try {
            await api.updateProject(p.name, { metadata: { public: pub ? 'false' : 'true' } });
            notify(`Project ${p.name} is now ${pub ? 'private' : 'public'}.`);
            await table.reload();
        } catch (e) {
            notify(e.message, 'error');
        }
    });
    return h('span', { class: 'inline' }, badge, sw);
}

async function createProject(ctx, table) {
    const name = h('input', { name: 'project_name', required: true, pattern: '[a-z0-9]+(?:[._\\-][a-z0-9]+)*', maxlength: 255, autocomplete: 'off' });
    const pub = h('input', { type: 'checkbox', name: 'public' });
    const quota = h('input', { type: 'number', name: 'quota', min: 0, step: 'any', value: '' });
    const unit = h('select', { 'aria-label': 'Quota unit' }, h('option', { value: String(1024 ** 2) }, 'MiB'), h('option', { value: String(1024 ** 3), selected: true }, 'GiB'), h('option', { value: String(1024 ** 4) }, 'TiB'));
    const body = h('div', null,
        field('Project name', name, 'Lower-case letters, digits and . _ - between them.'),
        checkField('Public: anyone may pull', pub),
        h('div', { class: 'field' }, h('label', { for: 'quota-in' }, 'Storage quota (empty: unlimited)'), h('div', { class: 'inline' }, Object.assign(quota, { id: 'quota-in' }), unit)));
    await openDialog({
        title: 'New project',
        body,
        submitLabel: 'Create',
        onSubmit: async () => {
            const b = { project_name: name.value.trim(), metadata: { public: pub.checked ? 'true' : 'false' } };
            if (quota.value !== '') b.storage_limit = Math.round(Number(quota.value) * Number(unit.value));
            else b.storage_limit = -1;
            await api.createProject(b);
            notify(`Project ${b.project_name} created.`);
            await table.reload();
        },
    });
}

async function removeProject(p, table) {
    await confirmDialog(`Delete project ${p.name}?`, `The project ${p.name} will be deleted. Only an empty project can be deleted.`, `Delete ${p.name}`, async () => {
        await api.deleteProject(p.name);
        notify(`Project ${p.name} deleted.`);
        await table.reload();
    });
}
