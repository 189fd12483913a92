// chart.js - pull charts on uPlot (vendor/uPlot.esm.js, loaded on first use).
//
// pullChart(container, data) draws one chart and a data table beside it (the same numbers as
// text, for screen readers and for copying). data is one of:
//   {kind: 'categories', title, labels: [name...], series: [{label, values: [n...]}]}
//       bars, one group per label (what the API has today: pull_count per repository);
//   {kind: 'time', title, x: [unix seconds...], step: 'hour'|'day', series: [{label, values}]}
//       lines over time, one per series (tag, user/robot or client family), for the pull
//       time-series endpoint to come.
// Colours come from the page's CSS custom properties, so the chart follows the light or dark
// scheme; it is redrawn when the container's width changes.
import { h } from './dom.js';

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

function dataTable(data) {
    const head = [data.kind === 'time' ? 'Time' : 'Name', ...data.series.map((s) => s.label)];
    const rows = data.kind === 'time'
        ? data.x.map((t, i) => [new Date(t * 1000).toLocaleString(), ...data.series.map((s) => s.values[i])])
        : data.labels.map((l, i) => [l, ...data.series.map((s) => s.values[i])]);
    return h('details', { class: 'chart-data' }, h('summary', null, 'Show the numbers'),
        h('div', { class: 'table-wrap' }, h('table', null, h('caption', { class: 'sr-only' }, data.title || 'Chart data'),
            h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, String(c)) : h('td', { class: 'num' }, String(c))))))))));
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

export async function pullChart(container, data) {
    const box = h('div', { class: 'chart', role: 'img', 'aria-label': data.title || 'Pull chart', 'data-kind': data.kind });
    const empty = data.kind === 'categories' ? data.labels.length === 0 : data.x.length === 0;
    const total = data.series.reduce((a, s) => a + s.values.reduce((x, y) => x + y, 0), 0);
    container.appendChild(h('p', { class: 'muted chart-total', id: 'chart-total' }, `${total} pulls${data.kind === 'categories' ? ' across the repositories shown' : ''}`));
    if (empty) {
        container.appendChild(h('p', { class: 'muted' }, 'No pulls to show yet.'));
        return null;
    }
    container.append(box, dataTable(data));
    const uPlot = await lib();
    const xs = data.kind === 'categories' ? data.labels.map((_, i) => i) : data.x;
    const plot = new uPlot(options(uPlot, data, Math.max(240, box.clientWidth || 600)), [xs, ...data.series.map((s) => s.values)], box);
    let last = box.clientWidth;
    const ro = new ResizeObserver(() => {
        if (!box.isConnected) {
            ro.disconnect();
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
