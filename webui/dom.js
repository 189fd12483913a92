// dom.js - small DOM helpers: every piece of user data goes in as text (textContent, attribute
// values), never as markup.

// h(tag, attrs, ...children): an element. attrs: plain attributes (set with setAttribute), plus
// `on` {event: handler}, `class`, `dataset`, and properties `value`/`checked`/`disabled`. Children
// are nodes, strings (text nodes) or arrays of them; null/undefined/false are skipped.
export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
        for (const [k, v] of Object.entries(attrs)) {
            if (v === undefined || v === null || v === false) continue;
            if (k === 'on') {
                for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
            } else if (k === 'dataset') {
                Object.assign(el.dataset, v);
            } else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') {
                el[k] = v;
            } else {
                el.setAttribute(k, v === true ? '' : String(v));
            }
        }
    }
    append(el, children);
    return el;
}

export function append(el, children) {
    for (const c of children) {
        if (c === undefined || c === null || c === false) continue;
        if (Array.isArray(c)) append(el, c);
        else if (c instanceof Node) el.appendChild(c);
        else el.appendChild(document.createTextNode(String(c)));
    }
    return el;
}

export function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
}

let uid = 0;
export function nextId(prefix) {
    uid += 1;
    return `${prefix}-${uid}`;
}

// field(label, input, hint): a labelled control.
export function field(label, input, hint) {
    if (!input.id) input.id = nextId('f');
    let hintEl = null;
    if (hint) {
        hintEl = h('span', { class: 'hint', id: `${input.id}-hint` }, hint);
        input.setAttribute('aria-describedby', hintEl.id);
    }
    return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hintEl);
}

export function checkField(label, input) {
    if (!input.id) input.id = nextId('f');
    return h('div', { class: 'field check' }, input, h('label', { for: input.id }, label));
}

export function select(options, value, attrs) {
    const s = h('select', attrs || null);
    for (const [v, label] of options) s.appendChild(h('option', { value: String(v), selected: String(v) === String(value) }, label));
    return s;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
export function fmtBytes(n) {
    if (n === undefined || n === null) return '';
    if (n < 0) return 'unlimited';
    let i = 0;
    let v = n;
    while (v >= 1024 && i < UNITS.length - 1) {
        v /= 1024;
        i++;
    }
    return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[i]}`;
}

// fmtTime: the API's RFC 3339 text as a local date and time; empty for none (the zero time).
export function fmtTime(s) {
    if (!s || s.startsWith('0001-') || s.startsWith('1970-01-01T00:00:00')) return '';
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return s;
    return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function timeEl(s) {
    const t = fmtTime(s);
    if (!t) return h('span', { class: 'muted' }, 'never');
    return h('time', { datetime: s }, t);
}

export function shortDigest(d) {
    return d && d.startsWith('sha256:') ? d.slice(0, 19) : d || '';
}

// copyText puts text on the clipboard: the async clipboard API where the page is a secure
// context, else a selected hidden text area and execCommand.
export async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
        try {
            await navigator.clipboard.writeText(text);
            return true;
        } catch (_) {
            /* fall back below */
        }
    }
    const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
        ok = document.execCommand('copy');
    } catch (_) {
        ok = false;
    }
    ta.remove();
    return ok;
}

// copyButton(text, label): a button that copies text and says so (a live region).
export function copyButton(text, label, attrs) {
    const status = h('span', { class: 'copy-status', role: 'status' });
    const btn = h('button', Object.assign({ type: 'button', class: 'btn small', 'aria-label': label, title: label }, attrs || {}), 'Copy');
    btn.addEventListener('click', async () => {
        const ok = await copyText(text);
        status.textContent = ok ? 'Copied' : 'Copy failed: select the text';
        setTimeout(() => {
            status.textContent = '';
        }, 2500);
    });
    return h('span', { class: 'copy' }, btn, status);
}

// codeLine: a read-only command line with its copy button.
export function codeLine(text, label) {
    return h('div', { class: 'codeline' }, h('code', null, text), copyButton(text, label));
}

// openDialog({title, body, actions}) shows a modal <dialog>; resolves with the action's value
// (or null when cancelled). actions: [{label, value, kind, submit}] where a submit action runs the
// form's `onSubmit` (async; throw to keep the dialog open, the message shown in it).
export function openDialog({ title, body, submitLabel, danger, onSubmit, cancelLabel, wide }) {
    return new Promise((resolve) => {
        const titleId = nextId('dlg');
        const err = h('p', { class: 'error', role: 'alert', hidden: true });
        const submit = submitLabel
            ? h('button', { type: 'submit', class: danger ? 'btn danger' : 'btn primary' }, submitLabel)
            : null;
        const cancel = h('button', { type: 'button', class: 'btn' }, cancelLabel || (submitLabel ? 'Cancel' : 'Close'));
        const form = h('form', { method: 'dialog', class: 'dialog-form' },
            h('h2', { id: titleId }, title), body, err, h('div', { class: 'actions' }, submit, cancel));
        const dlg = h('dialog', { 'aria-labelledby': titleId, class: wide ? 'wide' : null }, form);
        let result = null;
        const close = () => {
            dlg.close();
        };
        cancel.addEventListener('click', close);
        dlg.addEventListener('close', () => {
            dlg.remove();
            resolve(result);
        });
        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            if (!onSubmit) {
                result = true;
                close();
                return;
            }
            err.hidden = true;
            if (submit) submit.disabled = true;
            try {
                const r = await onSubmit(form);
                result = r === undefined ? true : r;
                if (r !== false) close();
            } catch (e) {
                err.textContent = e.message || String(e);
                err.hidden = false;
            } finally {
                if (submit) submit.disabled = false;
            }
        });
        document.body.appendChild(dlg);
        dlg.showModal();
        const first = form.querySelector('input, select, textarea');
        if (first) first.focus();
    });
}

// confirmDialog(title, text, label): a confirmation naming what will happen; throws-safe.
export function confirmDialog(title, message, label, action) {
    return openDialog({ title, body: h('p', null, message), submitLabel: label, danger: true, onSubmit: action });
}

// notify: a short message in the page's status area.
export function notify(message, kind) {
    const area = document.getElementById('toast');
    if (!area) return;
    const el = h('div', { class: `toast ${kind || 'info'}` }, message);
    area.appendChild(el);
    setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

// Table: a server-paged, sortable table. cols: [{key, label, sort, render(row) -> node|string,
// cls}]. load({page, pageSize, sort, q}) -> {items, total}. Returns {el, reload}.
export function pagedTable({ caption, cols, load, pageSize = 15, sort = '', searchLabel, empty, rowKey }) {
    const state = { page: 1, pageSize, sort, q: '' };
    const tbody = h('tbody');
    const status = h('p', { class: 'muted pager-status', role: 'status' });
    const prev = h('button', { type: 'button', class: 'btn small' }, 'Previous');
    const next = h('button', { type: 'button', class: 'btn small' }, 'Next');
    const sizeSel = select([[10, '10'], [15, '15'], [25, '25'], [50, '50'], [100, '100']], pageSize, { 'aria-label': 'Rows per page' });
    const heads = cols.map((c) => {
        if (!c.sort) return h('th', { scope: 'col', class: c.cls }, c.label);
        const b = h('button', { type: 'button', class: 'sort' }, c.label);
        const th = h('th', { scope: 'col', class: c.cls }, b);
        b.addEventListener('click', () => {
            state.sort = state.sort === c.sort ? `-${c.sort}` : c.sort;
            state.page = 1;
            reload();
        });
        return th;
    });
    const table = h('table', null, caption ? h('caption', { class: 'sr-only' }, caption) : null,
        h('thead', null, h('tr', null, heads)), tbody);
    let search = null;
    if (searchLabel) {
        const input = h('input', { type: 'search', placeholder: searchLabel, 'aria-label': searchLabel });
        let timer = null;
        input.addEventListener('input', () => {
            clearTimeout(timer);
            timer = setTimeout(() => {
                state.q = input.value.trim();
                state.page = 1;
                reload();
            }, 250);
        });
        search = h('div', { class: 'table-tools' }, input);
    }
    const pager = h('div', { class: 'pager' }, prev, status, next, h('label', { class: 'muted' }, 'Rows ', sizeSel));
    prev.addEventListener('click', () => {
        state.page--;
        reload();
    });
    next.addEventListener('click', () => {
        state.page++;
        reload();
    });
    sizeSel.addEventListener('change', () => {
        state.pageSize = Number(sizeSel.value);
        state.page = 1;
        reload();
    });
    const wrap = h('div', { class: 'table-wrap' }, table);
    const el = h('div', { class: 'paged' }, search, wrap, pager);
    let seq = 0;
    async function reload() {
        const my = ++seq;
        heads.forEach((th, i) => {
            const c = cols[i];
            if (!c.sort) return;
            th.setAttribute('aria-sort', state.sort === c.sort ? 'ascending' : state.sort === `-${c.sort}` ? 'descending' : 'none');
        });
        el.setAttribute('aria-busy', 'true');
        let res;
        try {
            res = await load({ page: state.page, pageSize: state.pageSize, sort: state.sort, q: state.q });
        } catch (e) {
            if (my !== seq) return;
            clear(tbody);
            tbody.appendChild(h('tr', null, h('td', { colspan: cols.length, class: 'error' }, e.message)));
            el.removeAttribute('aria-busy');
            return;
        }
        if (my !== seq) return;
        clear(tbody);
        const frag = document.createDocumentFragment();
        for (const row of res.items) {
            const tr = h('tr', rowKey ? { dataset: { key: rowKey(row) } } : null);
            for (const c of cols) tr.appendChild(h('td', { class: c.cls, 'data-label': c.label }, c.render(row)));
            frag.appendChild(tr);
        }
        if (res.items.length === 0) frag.appendChild(h('tr', null, h('td', { colspan: cols.length, class: 'muted' }, empty || 'Nothing here yet.')));
        tbody.appendChild(frag);
        const pages = Math.max(1, Math.ceil(res.total / state.pageSize));
        status.textContent = `Page ${state.page} of ${pages} · ${res.total} in all`;
        prev.disabled = state.page <= 1;
        next.disabled = state.page >= pages;
        el.removeAttribute('aria-busy');
        el.dataset.loaded = String(Date.now());
    }
    return { el, reload, state };
}
