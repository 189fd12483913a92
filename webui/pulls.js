// pulls.js - the pull reports: a chart of pulls over time with its window, step and split
// selectors (a project, a repository, an artifact or the whole registry), the top repositories
// and tags of a window, and the stale artifacts (not pulled for N days) with their sizes and
// the total. Everything comes from the pull-analytics endpoints (api_pulls.c); user data (tags,
// names, digests) goes in as text only (dom.js).
import { api } from './api.js';
import { h, clear, select, fmtBytes, timeEl, pagedTable, shortDigest } from './dom.js';
import { pullChart } from './chart.js';

const HOUR = 3600;
const DAY = 86400;
export const WINDOWS = [['1', '24 hours'], ['7', '7 days'], ['30', '30 days'], ['90', '90 days']];
const MAX_SERIES = 6; // lines drawn; the rest are added up as "other"

// seriesLabel: the text a series of group g is shown with
function seriesLabel(g, s) {
    if (g === 'tag') return s.key === '' ? '(by digest)' : s.key;
    if (g === 'artifact') return shortDigest(s.key);
    if (g === 'user') {
        if (s.kind === 'anonymous' || s.key === '') return 'anonymous';
        return s.kind === 'robot' ? `${s.key} (robot)` : s.key;
    }
    return s.key === '' ? 'pulls' : s.key;
}

// toChart: a timeseries document as pullChart's time data, every bucket of the window present
export function toChart(doc, group, title) {
    const step = doc.granularity === 'hour' ? HOUR : DAY;
    const from = Date.parse(doc.from) / 1000;
    const to = Date.parse(doc.to) / 1000;
    const x = [];
    for (let t = from; t < to; t += step) x.push(t);
    const index = new Map(x.map((t, i) => [t, i]));
    let series = doc.series.map((s) => {
        const values = new Array(x.length).fill(0);
        for (const p of s.points) {
            const i = index.get(Date.parse(p.time) / 1000);
            if (i !== undefined) values[i] += p.pulls;
        }
        return { label: seriesLabel(group, s), values, total: s.pulls };
    }).filter((s) => s.total > 0);
    series.sort((a, b) => b.total - a.total || (a.label < b.label ? -1 : 1));
    if (series.length > MAX_SERIES) {
        const rest = series.slice(MAX_SERIES - 1);
        const other = { label: `other (${rest.length})`, values: new Array(x.length).fill(0), total: 0 };
        for (const s of rest) s.values.forEach((v, i) => { other.values[i] += v; });
        series = [...series.slice(0, MAX_SERIES - 1), other];
    }
    return { kind: 'time', step: doc.granularity, title, x, series: series.map(({ label, values }) => ({ label, values })) };
}

// windowQuery: from/granularity of a window of days, hourly up to 7 days unless asked
export function windowQuery(days, step) {
    const now = Math.floor(Date.now() / 1000);
    const granularity = step || (Number(days) <= 7 ? 'hour' : 'day');
    return { from: String(now - Number(days) * DAY), granularity };
}

// pullsPanel({scope, splits, title, idPrefix, days, onWindow}): a card with the chart and its
// selectors; returns {el, reload}. scope as api.pullSeries; splits: [[group_by, label]...].
export function pullsPanel({ scope, splits, title, idPrefix, days = '7', onWindow }) {
    const p = idPrefix;
    const win = select(WINDOWS, days, { id: `${p}-window`, name: 'window' });
    const stepSel = select([['', 'Automatic'], ['hour', 'Hours'], ['day', 'Days']], '', { id: `${p}-step`, name: 'step' });
    const split = select([['', 'No split'], ...splits], splits.length ? splits[0][0] : '', { id: `${p}-split`, name: 'split' });
    const lab = (el, text) => h('label', { for: el.id }, text);
    const tools = h('div', { class: 'chart-tools' },
        h('span', { class: 'tool' }, lab(win, 'Window'), win),
        h('span', { class: 'tool' }, lab(stepSel, 'Step'), stepSel),
        h('span', { class: 'tool' }, lab(split, 'Split by'), split));
    const body = h('div', { class: 'chart-body', 'aria-live': 'polite' });
    const el = h('div', { class: 'card chart-card', id: `${p}-card` }, h('h2', null, title), tools, body);
    let my = 0;
    async function reload() {
        const n = ++my;
        el.setAttribute('aria-busy', 'true');
        const q = windowQuery(win.value, stepSel.value);
        if (split.value) q.group_by = split.value;
        try {
            const doc = await api.pullSeries(scope, q);
            if (n !== my) return;
            clear(body);
            const winLabel = WINDOWS.find((w) => w[0] === win.value)[1];
            const splitLabel = split.value ? `, by ${split.options[split.selectedIndex].text.toLowerCase()}` : '';
            await pullChart(body, toChart(doc, split.value, `${title}: last ${winLabel}, per ${doc.granularity}${splitLabel}`), { totalId: `${p}-total` });
        } catch (e) {
            if (n !== my) return;
            clear(body);
            if (e.status !== 401) body.appendChild(h('p', { class: 'error', role: 'alert' }, `The chart could not be drawn: ${e.message}`));
        } finally {
            if (n === my) {
                el.removeAttribute('aria-busy');
                el.dataset.loaded = String(Date.now());
            }
        }
    }
    win.addEventListener('change', () => {
        reload();
        if (onWindow) onWindow(win.value);
    });
    stepSel.addEventListener('change', reload);
    split.addEventListener('change', reload);
    return { el, reload, windowDays: () => win.value };
}

// topTables(project, days): the busiest repositories and tags of a window (project null: the
// whole registry); returns {el, reload(days)}
export function topTables(project, idPrefix) {
    const repoBody = h('tbody');
    const tagBody = h('tbody');
    const short = (n) => (project && n.startsWith(`${project}/`) ? n.slice(project.length + 1) : n);
    const link = (full) => {
        const i = full.indexOf('/');
        return h('a', { href: `#/projects/${encodeURIComponent(full.slice(0, i))}/repositories/${encodeURIComponent(full.slice(i + 1))}` }, short(full));
    };
    const table = (caption, head, tbody, id) => h('div', { class: 'table-wrap' }, h('table', { id, class: 'top-table' }, h('caption', null, caption),
        h('thead', null, h('tr', null, head.map((c, i) => h('th', { scope: 'col', class: i >= head.length - 2 ? 'num' : null }, c)))), tbody));
    const el = h('div', { class: 'cards top-cards' },
        h('div', { class: 'card' }, table('Top repositories', ['Repository', 'Pulls', 'Last pull'], repoBody, `${idPrefix}-top-repos`)),
        h('div', { class: 'card' }, table('Top tags', ['Tag', 'Pulls', 'Last pull'], tagBody, `${idPrefix}-top-tags`)));
    const fill = (tbody, items, first) => {
        clear(tbody);
        if (!items.length) {
            tbody.appendChild(h('tr', null, h('td', { colspan: 3, class: 'muted' }, 'No pulls in this window.')));
            return;
        }
        for (const it of items) {
            tbody.appendChild(h('tr', { dataset: { key: it.tag !== undefined ? `${it.repository_name}:${it.tag}` : it.repository_name } },
                h('td', { 'data-label': 'Name' }, first(it)),
                h('td', { class: 'num pulls', 'data-label': 'Pulls' }, String(it.pull_count)),
                h('td', { class: 'num', 'data-label': 'Last pull' }, timeEl(it.last_pull_time))));
        }
    };
    async function reload(days) {
        el.setAttribute('aria-busy', 'true');
        const q = { from: windowQuery(days).from, n: 10 };
        try {
            const [repos, tags] = await Promise.all([api.pullTop(project, { ...q, by: 'repository' }), api.pullTop(project, { ...q, by: 'tag' })]);
            fill(repoBody, repos.items, (it) => link(it.repository_name));
            fill(tagBody, tags.items, (it) => h('span', null, link(it.repository_name), ':', h('span', { class: 'tagname' }, it.tag === '' ? '(by digest)' : it.tag)));
        } catch (e) {
            if (e.status === 401) return;
            for (const b of [repoBody, tagBody]) {
                clear(b);
                b.appendChild(h('tr', null, h('td', { colspan: 3, class: 'error' }, e.message)));
            }
        } finally {
            el.removeAttribute('aria-busy');
        }
    }
    return { el, reload };
}

// staleTable(project): artifacts not pulled for N days (selectable), oldest pull first, with
// their sizes and the total size of all of them (X-Total-Size)
export function staleTable(project, idPrefix) {
    const days = select([['7', '7 days'], ['30', '30 days'], ['90', '90 days'], ['180', '180 days'], ['365', '365 days']], '30', { id: `${idPrefix}-stale-days` });
    const summary = h('p', { class: 'stale-summary', id: `${idPrefix}-stale-total`, role: 'status' });
    const table = pagedTable({
        caption: project ? `Artifacts of ${project} not pulled recently` : 'Artifacts not pulled recently, every project',
        pageSize: 10,
        empty: 'Every artifact was pulled in this window.',
        rowKey: (a) => `${a.repository_name}@${a.digest}`,
        load: async (o) => {
            const r = await api.pullStale(project, { ...o, days: days.value, kind: 'artifact' });
            const what = `${r.total} ${r.total === 1 ? 'artifact' : 'artifacts'} not pulled for ${days.value} days`;
            summary.textContent = r.size === null
                ? `${what} (too many to add up their sizes).`
                : `${what}, ${fmtBytes(r.size)} in all (layers shared with other artifacts are counted in each, so deleting them frees at most this).`;
            summary.dataset.bytes = r.size === null ? '' : String(r.size);
            return r;
        },
        cols: [
            { label: 'Repository', render: (a) => h('span', { class: 'strong' }, a.repository_name) },
            { label: 'Digest', render: (a) => h('code', { title: a.digest }, shortDigest(a.digest)) },
            { label: 'Size', cls: 'num size', render: (a) => fmtBytes(a.size) },
            { label: 'Pushed', render: (a) => timeEl(a.push_time) },
            { label: 'Last pull', render: (a) => (a.pull_time ? timeEl(a.pull_time) : h('span', { class: 'muted' }, 'never')) },
            { label: 'Pulls', cls: 'num pulls', render: (a) => String(a.pull_count) },
        ],
    });
    days.addEventListener('change', () => {
        table.state.page = 1;
        table.reload();
    });
    const el = h('div', { class: 'card', id: `${idPrefix}-stale` },
        h('div', { class: 'section-head' }, h('h2', null, 'Stale artifacts'),
            h('span', { class: 'tool' }, h('label', { for: days.id }, 'Not pulled for'), days)),
        summary, table.el);
    return { el, reload: () => table.reload() };
}
