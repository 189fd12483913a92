// project.js - one project: summary (quota bar, repository count, members by role, pull chart),
// repositories, the pull report (pulls over time, top repositories and tags, stale artifacts),
// members, robot accounts, audit log. What a user may change follows their role:
// project admins (and system admins) manage members and robots; guests only look.
import { api } from './api.js';
import { h, clear, field, checkField, select, fmtBytes, timeEl, pagedTable, openDialog, confirmDialog, notify, codeLine, copyButton } from './dom.js';
import { pullChart } from './chart.js';
import { pullsPanel, topTables, staleTable } from './pulls.js';

export const ROLES = [[1, 'Project admin'], [4, 'Maintainer'], [2, 'Developer'], [3, 'Guest'], [5, 'Limited guest']];
const roleName = (id) => (ROLES.find((r) => r[0] === id) || [0, 'none'])[1];

export function perms(ctx, p) {
    const role = p.current_user_role_id || 0;
    const sys = !!ctx.user.sysadmin_flag;
    return {
        role,
        admin: sys || role === 1,
        del: sys || role === 1 || role === 4,
        members: sys || (role > 0 && role !== 5),
        logs: sys || (role > 0 && role !== 5),
    };
}

export async function render(main, ctx, name, tab) {
    const p = await api.project(name);
    const can = perms(ctx, p);
    ctx.setTitle(name);
    const tabs = [['summary', 'Summary'], ['repositories', 'Repositories'], ['pulls', 'Pulls']];
    if (can.members) tabs.push(['members', 'Members']);
    if (can.admin) tabs.push(['robots', 'Robot accounts']);
    if (can.logs) tabs.push(['logs', 'Logs']);
    if (!tabs.some((t) => t[0] === tab)) tab = 'summary';
    const base = `#/projects/${encodeURIComponent(name)}`;
    const pub = p.metadata && p.metadata.public === 'true';
    const nav = h('nav', { class: 'tabs', 'aria-label': 'Project sections' },
        tabs.map(([k, label]) => h('a', { href: `${base}/${k}`, 'aria-current': k === tab ? 'page' : null, class: 'tab' }, label)));
    main.append(
        h('p', { class: 'crumbs' }, h('a', { href: '#/projects' }, 'Projects'), ' / '),
        h('div', { class: 'page-head' }, h('h1', null, name), h('span', { class: pub ? 'badge public' : 'badge private' }, pub ? 'public' : 'private'),
            can.role ? h('span', { class: 'badge' }, roleName(can.role)) : null),
        nav);
    const section = h('section', { class: 'panel', 'aria-label': tabs.find((t) => t[0] === tab)[1] });
    main.appendChild(section);
    const pages = { summary, repositories, pulls, members, robots, logs };
    await pages[tab](section, ctx, p, can);
}

// ---- summary ----
async function summary(el, ctx, p, can) {
    const s = await api.projectSummary(p.name);
    const q = s.quota || {};
    const used = q.used ? q.used.storage : 0;
    const hard = q.hard ? q.hard.storage : -1;
    const quota = h('div', { class: 'card' }, h('h2', null, 'Quota'),
        hard >= 0
            ? [h('progress', { max: String(hard || 1), value: String(Math.min(used, hard)), 'aria-label': 'Storage quota used', id: 'quota-bar' }),
                h('p', null, `${fmtBytes(used)} of ${fmtBytes(hard)} used (${hard > 0 ? Math.round((100 * used) / hard) : 100} %)`)]
            : h('p', null, `${fmtBytes(used)} used · no limit`));
    const repos = h('div', { class: 'card' }, h('h2', null, 'Repositories'), h('p', { class: 'big', id: 'repo-count' }, String(s.repo_count)));
    const counts = [['Project admins', s.project_admin_count], ['Maintainers', s.maintainer_count], ['Developers', s.developer_count], ['Guests', s.guest_count], ['Limited guests', s.limited_guest_count]];
    const members = h('div', { class: 'card' }, h('h2', null, 'Members by role'),
        h('dl', { class: 'counts' }, counts.map(([k, v]) => [h('dt', null, k), h('dd', null, String(v || 0))])));
    el.appendChild(h('div', { class: 'cards' }, quota, repos, members));

    if (can.admin) {
        const pub = p.metadata && p.metadata.public === 'true';
        const box = h('input', { type: 'checkbox', checked: pub, id: 'public-switch' });
        box.addEventListener('change', async () => {
            try {
                await api.updateProject(p.name, { metadata: { public: box.checked ? 'true' : 'false' } });
                notify(`Project ${p.name} is now ${box.checked ? 'public' : 'private'}.`);
            } catch (e) {
                box.checked = !box.checked;
                notify(e.message, 'error');
            }
        });
        const delBtn = h('button', { type: 'button', class: 'btn danger', id: 'delete-project' }, `Delete project ${p.name}`);
        delBtn.addEventListener('click', () => confirmDialog(`Delete project ${p.name}?`, `The project ${p.name} will be deleted. Only an empty project can be deleted.`, `Delete ${p.name}`, async () => {
            await api.deleteProject(p.name);
            notify(`Project ${p.name} deleted.`);
            ctx.go('#/projects');
        }));
        el.appendChild(h('div', { class: 'card' }, h('h2', null, 'Configuration'), checkField('Public: anyone may pull without logging in', box), delBtn));
    }

    // pulls by repository: the counts the API has today (a time series will come later)
    const chartBox = h('div', { class: 'card chart-card' }, h('h2', { id: 'pull-chart-title' }, 'Pulls by repository'));
    el.appendChild(chartBox);
    // drawn after the page is interactive: the chart library loads on first use
    const loading = h('p', { class: 'muted' }, 'Loading the chart…');
    chartBox.appendChild(loading);
    const short = (n) => (n.startsWith(`${p.name}/`) ? n.slice(p.name.length + 1) : n);
    api.repositories(p.name, { page: 1, pageSize: 20, sort: '-pull_count' })
        .then((top) => {
            loading.remove();
            return pullChart(chartBox, {
                kind: 'categories',
                title: 'Pulls by repository (top 20, all time)',
                labels: top.items.map((r) => short(r.name)),
                series: [{ label: 'pulls', values: top.items.map((r) => r.pull_count) }],
            });
        })
        .catch((e) => {
            if (e.status === 401) return;
            loading.textContent = `The chart could not be drawn: ${e.message}`;
        });
}

// ---- repositories ----
async function repositories(el, ctx, p, can) {
    const short = (n) => (n.startsWith(`${p.name}/`) ? n.slice(p.name.length + 1) : n);
    const table = pagedTable({
        caption: `Repositories of ${p.name}`,
        searchLabel: 'Search repositories by name',
        sort: '-update_time',
        empty: 'No repository yet: push an image to create one.',
        rowKey: (r) => r.name,
        load: (o) => api.repositories(p.name, o),
        cols: [
            { label: 'Name', sort: 'name', render: (r) => h('a', { href: `#/projects/${encodeURIComponent(p.name)}/repositories/${encodeURIComponent(short(r.name))}`, class: 'strong' }, r.name) },
            { label: 'Artifacts', sort: 'artifact_count', cls: 'num', render: (r) => String(r.artifact_count) },
            { label: 'Pulls', sort: 'pull_count', cls: 'num pulls', render: (r) => String(r.pull_count) },
            { label: 'Last pull', sort: 'pull_time', cls: 'last-pull', render: (r) => timeEl(r.pull_time) },
            { label: 'Last push', sort: 'update_time', render: (r) => timeEl(r.update_time) },
            { label: 'Created', sort: 'creation_time', render: (r) => timeEl(r.creation_time) },
            {
                label: 'Actions',
                render: (r) => (can.del ? h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete repository ${r.name}`, on: { click: () => confirmDialog(`Delete repository ${r.name}?`, `Every artifact and tag of ${r.name} will be deleted.`, `Delete ${r.name}`, async () => {
                    await api.deleteRepository(p.name, r.name);
                    notify(`Repository ${r.name} deleted.`);
                    await table.reload();
                }) } }, 'Delete') : ''),
            },
        ],
    });
    el.append(h('h2', null, 'Repositories'), h('p', { class: 'muted' }, `Push with: docker push ${ctx.host}/${p.name}/REPOSITORY:TAG`), table.el);
    await table.reload();
}

// ---- pulls: the chart over a window, the top lists of the same window, the stale artifacts ----
async function pulls(el, ctx, p) {
    const top = topTables(p.name, 'project');
    const chart = pullsPanel({
        scope: { project: p.name },
        title: 'Pulls over time',
        idPrefix: 'project-pulls',
        splits: [['tag', 'Tag'], ['artifact', 'Artifact'], ['user', 'User or robot'], ['client', 'Client']],
        onWindow: (days) => top.reload(days),
    });
    const stale = staleTable(p.name, 'project');
    el.append(h('h2', { class: 'sr-only' }, `Pull report of ${p.name}`), chart.el, top.el, stale.el);
    // the page is interactive once the three are loaded (the chart library loads on first use)
    await Promise.all([chart.reload(), top.reload(chart.windowDays()), stale.reload()]);
}

// ---- members ----
async function members(el, ctx, p, can) {
    const table = pagedTable({
        caption: `Members of ${p.name}`,
        searchLabel: 'Search members by name',
        empty: 'No members yet.',
        rowKey: (m) => m.entity_name,
        load: (o) => api.members(p.name, o),
        cols: [
            { label: 'Name', render: (m) => h('span', { class: 'strong' }, m.entity_name) },
            { label: 'Type', render: (m) => (m.entity_type === 'u' ? 'user' : m.entity_type) },
            {
                label: 'Role',
                render: (m) => {
                    if (!can.admin) return roleName(m.role_id);
                    const s = select(ROLES, m.role_id, { 'aria-label': `Role of ${m.entity_name}` });
                    s.addEventListener('change', async () => {
                        try {
                            await api.setMemberRole(p.name, m.id, Number(s.value));
                            notify(`${m.entity_name} is now ${roleName(Number(s.value))}.`);
                        } catch (e) {
                            notify(e.message, 'error');
                            s.value = String(m.role_id);
                        }
                    });
                    return s;
                },
            },
            {
                label: 'Actions',
                render: (m) => (can.admin ? h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Remove member ${m.entity_name}`, on: { click: () => confirmDialog(`Remove ${m.entity_name}?`, `${m.entity_name} will no longer be a member of ${p.name}.`, `Remove ${m.entity_name}`, async () => {
                    await api.removeMember(p.name, m.id);
                    notify(`${m.entity_name} removed.`);
                    await table.reload();
                }) } }, 'Remove') : ''),
            },
        ],
    });
    const add = can.admin ? h('button', { type: 'button', class: 'btn primary', id: 'add-member', on: { click: () => addMember(p, table) } }, 'Add member') : null;
    el.append(h('div', { class: 'section-head' }, h('h2', null, 'Members'), add), table.el);
    await table.reload();
}

async function addMember(p, table) {
    const user = h('input', { name: 'username', required: true, autocomplete: 'off', list: 'user-suggestions' });
    const list = h('datalist', { id: 'user-suggestions' });
    let t = null;
    user.addEventListener('input', () => {
        clearTimeout(t);
        t = setTimeout(async () => {
            if (user.value.length < 1) return;
            try {
                const r = await api.searchUsers(user.value);
                clear(list);
                for (const u of r.items) list.appendChild(h('option', { value: u.username }));
            } catch (_) {
                /* suggestions only */
            }
        }, 200);
    });
    const role = select(ROLES, 2, { name: 'role' });
    await openDialog({
        title: `Add a member to ${p.name}`,
        body: h('div', null, field('User name', user), list, field('Role', role)),
        submitLabel: 'Add',
        onSubmit: async () => {
            await api.addMember(p.name, user.value.trim(), Number(role.value));
            notify(`${user.value.trim()} added as ${roleName(Number(role.value))}.`);
            await table.reload();
        },
    });
}

// ---- robots ----
export function robotActions(rb) {
    const acts = new Set();
    for (const perm of rb.permissions || []) for (const a of perm.access || []) acts.add(a.action);
    return [...acts].join(', ');
}

export function expiresText(rb) {
    if (rb.expires_at === -1 || rb.duration === -1) return 'never';
    const d = new Date(rb.expires_at * 1000);
    return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

function shq(s) {
    return `'${String(s).replace(/'/g, "'\\''")}'`;
}

// showSecret: the robot's secret, once, with copy buttons and a kubectl line for imagePullSecrets.
export async function showSecret(ctx, name, secret, project) {
    const k8sName = `${project ? `${project}-` : ''}${name.replace(/^.*[+$]/, '')}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63) || 'berth-pull';
    const kubectl = `kubectl create secret docker-registry ${k8sName} --docker-server=${ctx.host} --docker-username=${shq(name)} --docker-password=${shq(secret)}`;
    const secretIn = h('input', { readonly: true, id: 'robot-secret', class: 'mono', value: secret });
    await openDialog({
        title: `Secret of ${name}`,
        wide: true,
        body: h('div', { class: 'secret-box' },
            h('p', { class: 'notice' }, 'This secret is shown only now. Copy it before closing this window.'),
            field('Robot name', h('input', { readonly: true, class: 'mono', value: name, id: 'robot-name' })),
            h('div', { class: 'field' }, h('label', { for: 'robot-secret' }, 'Secret'), h('div', { class: 'inline' }, secretIn, copyButton(secret, 'Copy secret', { id: 'copy-secret' }))),
            h('p', null, 'For a Kubernetes imagePullSecret:'),
            codeLine(kubectl, 'Copy kubectl command')),
        cancelLabel: 'Close',
    });
}

export function robotTable(ctx, { caption, load, project, onChanged }) {
    const table = pagedTable({
        caption,
        searchLabel: 'Search robot accounts by name',
        empty: 'No robot accounts yet.',
        rowKey: (r) => r.name,
        load,
        cols: [
            { label: 'Name', sort: 'name', render: (r) => h('span', { class: 'strong mono' }, r.name) },
            { label: 'Description', render: (r) => r.description },
            { label: 'Permissions', render: (r) => robotActions(r) },
            { label: 'Status', render: (r) => h('span', { class: r.disable ? 'badge private' : 'badge public' }, r.disable ? 'disabled' : 'enabled') },
            { label: 'Expires', render: (r) => expiresText(r) },
            { label: 'Created', sort: 'creation_time', render: (r) => timeEl(r.creation_time) },
            {
                label: 'Actions',
                render: (r) => h('span', { class: 'inline' },
                    h('button', { type: 'button', class: 'btn small', 'aria-label': `${r.disable ? 'Enable' : 'Disable'} ${r.name}`, on: { click: async () => {
                        try {
                            await api.updateRobot(r.id, { disable: !r.disable });
                            notify(`${r.name} ${r.disable ? 'enabled' : 'disabled'}.`);
                            await table.reload();
                        } catch (e) {
                            notify(e.message, 'error');
                        }
                    } } }, r.disable ? 'Enable' : 'Disable'),
                    h('button', { type: 'button', class: 'btn small', 'aria-label': `Refresh secret of ${r.name}`, on: { click: () => confirmDialog(`Refresh the secret of ${r.name}?`, `The current secret of ${r.name} stops working at once.`, 'Refresh secret', async () => {
                        const res = await api.refreshRobot(r.id);
                        setTimeout(() => showSecret(ctx, r.name, res.secret, project), 0);
                    }) } }, 'Refresh secret'),
                    h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete ${r.name}`, on: { click: () => confirmDialog(`Delete ${r.name}?`, `The robot account ${r.name} will be deleted; clients using it can no longer log in.`, `Delete ${r.name}`, async () => {
                        await api.deleteRobot(r.id);
                        notify(`${r.name} deleted.`);
                        await table.reload();
                        if (onChanged) onChanged();
                    }) } }, 'Delete')),
            },
        ],
    });
    return table;
}

export async function createRobotDialog(ctx, { project, table }) {
    const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9]+(?:[._\\-][a-z0-9]+)*', autocomplete: 'off' });
    const desc = h('input', { name: 'description', maxlength: 1024 });
    const days = h('input', { type: 'number', name: 'duration', min: -1, value: '30', required: true });
    const boxes = ['pull', 'push', 'delete'].map((a) => h('input', { type: 'checkbox', name: `perm-${a}`, value: a, checked: a === 'pull' }));
    const body = h('div', null,
        field('Name', name, project ? `The account will be named robot$${project}+NAME.` : 'The account will be named robot$NAME.'),
        field('Description', desc),
        field('Expires after (days, -1: never)', days),
        h('fieldset', null, h('legend', null, project ? `Permissions on ${project}'s repositories` : 'Permissions on every project\'s repositories'),
            boxes.map((b) => checkField(b.value, b))));
    let created = null;
    await openDialog({
        title: project ? `New robot account for ${project}` : 'New system robot account',
        body,
        submitLabel: 'Create',
        onSubmit: async () => {
            const access = boxes.filter((b) => b.checked).map((b) => ({ resource: 'repository', action: b.value }));
            if (!access.length) throw new Error('Choose at least one permission.');
            created = await api.createRobot({
                name: name.value.trim(),
                description: desc.value,
                level: project ? 'project' : 'system',
                duration: Number(days.value),
                permissions: [{ kind: 'project', namespace: project || '*', access }],
            });
            await table.reload();
        },
    });
    if (created) await showSecret(ctx, created.name, created.secret, project);
}

async function robots(el, ctx, p) {
    const table = robotTable(ctx, { caption: `Robot accounts of ${p.name}`, load: (o) => api.projectRobots(p.name, o), project: p.name });
    const add = h('button', { type: 'button', class: 'btn primary', id: 'new-robot', on: { click: () => createRobotDialog(ctx, { project: p.name, table }) } }, 'New robot account');
    el.append(h('div', { class: 'section-head' }, h('h2', null, 'Robot accounts'), add), table.el);
    await table.reload();
}

// ---- audit log ----
export function logTable(caption, load) {
    return pagedTable({
        caption,
        searchLabel: 'Search by user name',
        sort: '-op_time',
        empty: 'Nothing recorded yet.',
        load,
        cols: [
            { label: 'Time', sort: 'op_time', render: (l) => timeEl(l.op_time) },
            { label: 'User', render: (l) => l.username },
            { label: 'Operation', render: (l) => l.operation },
            { label: 'Resource', render: (l) => h('span', { class: 'mono' }, l.resource) },
            { label: 'Type', render: (l) => l.resource_type },
        ],
    });
}

async function logs(el, ctx, p) {
    const table = logTable(`Audit log of ${p.name}`, (o) => api.projectLogs(p.name, o));
    el.append(h('h2', null, 'Audit log'), table.el);
    await table.reload();
}
