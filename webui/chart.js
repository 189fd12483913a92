// chart.js - pull charts on uPlot (vendor/uPlot.esm.js, loaded on first use).
//
// pullChart(container, data) draws one chart and a data table beside it (the same numbers as
// text, for screen readers and for copying). data is one of:
//   {kind: 'categories', title, labels: [name...], series: [{label, values: [n...]}]}
//       bars, one group per label (what the API has today: pull_count per repository);
//   {kind: 'time', title, x: [unix seconds...], step: 'hour'|'day', series: [{label, values}]}
//       lines over time, one per series (tag, artifact, user/robot or client family).
// The numbers are also a table, visually hidden until asked for (screen readers read it), and
// a one-sentence description of the totals (aria-describedby); every label goes in as text.
// Colours come from the page's CSS custom properties, so the chart follows the light or dark
// scheme; it is redrawn when the container's width changes.
import { h, append } from './dom.js';

let uPlotMod = null;
async function lib() {
    if (!uPlotMod) uPlotMod = (await import('./vendor/uPlot.esm.js')).default;
    return uPlotMod;
}

function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
}

const PALETTE = ['--chart-1', '--chart-2', '--chart-3', '--chart-4', '--chart-5', '--chart-6'];

const fmtTime = (t, step) => new Date(t * 1000).toLocaleString(undefined, step === 'day'
    ? { year: 'numeric', month: 'short', day: 'numeric' }
    : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

// dataTable: the chart's numbers as a table, visually hidden until "Show the numbers" is pressed
// (screen readers always have it). Time charts list the buckets holding pulls only, and end
// with a row of totals per series.
function dataTable(data, uid) {
    const head = [data.kind === 'time' ? 'Time' : 'Name', ...data.series.map((s) => s.label)];
    const rows = data.kind === 'time'
        ? data.x.map((t, i) => [fmtTime(t, data.step), ...data.series.map((s) => s.values[i])]).filter((r) => r.slice(1).some((v) => v !== 0))
        : data.labels.map((l, i) => [l, ...data.series.map((s) => s.values[i])]);
    const totals = data.series.map((s) => s.values.reduce((a, b) => a + b, 0));
    const row = (r, cls) => h('tr', cls ? { class: cls } : null, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, String(c)) : h('td', { class: 'num' }, String(c)))));
    const wrap = h('div', { class: 'table-wrap', role: 'region', 'aria-label': `${data.title || 'Chart'}: the numbers` });
    const box = h('div', { class: 'chart-data sr-only', id: `${uid}-data` },
        append(wrap, [h('table', null, h('caption', null, data.title || 'Chart data'),
            h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', null, rows.map((r) => row(r))),
            data.kind === 'time' ? h('tfoot', null, row(['Total', ...totals], 'chart-totals')) : null)]));
    const btn = h('button', { type: 'button', class: 'btn small chart-toggle', 'aria-expanded': 'false', 'aria-controls': box.id }, 'Show the numbers');
    btn.addEventListener('click', () => {
        const open = box.classList.toggle('sr-only') === false;
        btn.setAttribute('aria-expanded', String(open));
        // shown, the table may scroll sideways: it is then reachable from the keyboard
        if (open) wrap.setAttribute('tabindex', '0');
        else wrap.removeAttribute('tabindex');
        btn.textContent = open ? 'Hide the numbers' : 'Show the numbers';
    });
    return [btn, box];
}

// describe: one sentence with the totals, the chart's accessible description
function describe(data) {
    const parts = data.series.map((s) => `${s.label}: ${s.values.reduce((a, b) => a + b, 0)}`);
    return `${data.title || 'Pulls'}. ${parts.join('; ')}.`;
}

function options(uPlot, data, width) {
    const text = cssVar('--fg-muted', '#666');
    const grid = cssVar('--border', '#ddd');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const series = [{}];
    data.series.forEach((s, i) => {
        const color = cssVar(PALETTE[i % PALETTE.length], '#2a6fdb');
        if (data.kind === 'categories') {
            series.push({
                label: s.label,
                stroke: color,
                fill: color,
                width: 0,
                points: { show: false },
                paths: uPlot.paths.bars({ size: [0.7 / data.series.length, 60], align: 0 }),
            });
        } else {
            series.push({ label: s.label, stroke: color, width: 2, points: { show: data.x.length < 60 } });
        }
    });
    const o = {
        width,
        height: 260,
        series,
        legend: { show: data.series.length > 1 },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [Object.assign({}, axis), Object.assign({}, axis, { size: 50, values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? String(v) : '')) })],
    };
    if (data.kind === 'categories') {
        o.scales.x = { time: false, range: () => [-0.5, data.labels.length - 0.5] };
        o.axes[0] = Object.assign({}, axis, {
            space: 10,
            incrs: [1],
            rotate: data.labels.length > 6 ? -35 : 0,
            size: data.labels.length > 6 ? 80 : 40,
            values: (u, vals) => vals.map((v) => (Number.isInteger(v) && data.labels[v] !== undefined ? (data.labels[v].length > 16 ? `${data.labels[v].slice(0, 15)}…` : data.labels[v]) : '')),
        });
    }
    return o;
}

let seq = 0;

// pullChart(container, data, {totalId}): draws the chart, its total line (id totalId, default
// chart-total) and its numbers; resolves with the uPlot instance, or null when there is
// nothing to draw. Redrawn when the width or the colour scheme changes.
export async function pullChart(container, data, opts = {}) {
    seq += 1;
    const uid = `chart-${seq}`;
    const desc = h('p', { class: 'sr-only', id: `${uid}-desc` }, describe(data));
    const box = h('div', { class: 'chart', role: 'img', 'aria-label': data.title || 'Pull chart', 'aria-describedby': desc.id, 'data-kind': data.kind });
    const empty = data.kind === 'categories' ? data.labels.length === 0 : data.series.length === 0;
    const total = data.series.reduce((a, s) => a + s.values.reduce((x, y) => x + y, 0), 0);
    container.appendChild(h('p', { class: 'muted chart-total', id: opts.totalId || 'chart-total' }, `${total} pulls${data.kind === 'categories' ? ' across the repositories shown' : ''}`));
    if (empty) {
        container.appendChild(h('p', { class: 'muted chart-empty' }, 'No pulls to show yet.'));
        return null;
    }
    container.append(box, desc, ...dataTable(data, uid));
    const uPlot = await lib();
    const xs = data.kind === 'categories' ? data.labels.map((_, i) => i) : data.x;
    const draw = () => new uPlot(options(uPlot, data, Math.max(240, box.clientWidth || 600)), [xs, ...data.series.map((s) => s.values)], box);
    let plot = draw();
    let last = box.clientWidth;
    const scheme = window.matchMedia('(prefers-color-scheme: dark)');
    const recolour = () => {
        if (!box.isConnected) return;
        plot.destroy();
        plot = draw();
    };
    scheme.addEventListener('change', recolour);
    const ro = new ResizeObserver(() => {
        if (!box.isConnected) {
            ro.disconnect();
            scheme.removeEventListener('change', recolour);
            plot.destroy();
            return;
        }
        const w = box.clientWidth;
        if (w && Math.abs(w - last) > 4) {
            last = w;
            plot.setSize({ width: Math.max(240, w), height: 260 });
        }
    });
    ro.observe(box);
    return plot;
}
