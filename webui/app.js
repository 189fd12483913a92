// app.js - the shell: session, header with the current-user menu, hash routes, the login and
// password pages. Pages are modules exporting render(main, ctx, params).
import { api, onSessionEnd } from './api.js';
import { h, clear, field, notify } from './dom.js';

const ctx = { user: null, host: location.host, loginMessage: '' };
const main = () => document.getElementById('main');

function routes() {
    return [
        [/^#\/projects\/([^/]+)\/repositories\/(.+)$/, async (m, p) => (await import('./repository.js')).render(m, ctx, decodeURIComponent(p[1]), decodeURIComponent(p[2]))],
        [/^#\/projects\/([^/]+)(?:\/([a-z]+))?$/, async (m, p) => (await import('./project.js')).render(m, ctx, decodeURIComponent(p[1]), p[2] || 'summary')],
        [/^#\/projects$/, async (m) => (await import('./projects.js')).render(m, ctx)],
        [/^#\/admin(?:\/([a-z]+))?$/, async (m, p) => (await import('./admin.js')).render(m, ctx, p[1] || 'users')],
        [/^#\/account$/, async (m) => renderAccount(m)],
    ];
}

export function go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
}

function setTitle(t) {
    document.title = t ? `${t} · Berth` : 'Berth';
}
ctx.setTitle = setTitle;
ctx.go = go;

async function route() {
    const m = main();
    if (!ctx.user) {
        renderLogin(m);
        return;
    }
    const hash = location.hash || '#/projects';
    if (hash === '#/login' || hash === '#' || hash === '#/') {
        go('#/projects');
        return;
    }
    renderHeader();
    document.body.removeAttribute('data-ready');
    clear(m);
    for (const [re, fn] of routes()) {
        const p = hash.match(re);
        if (p) {
            try {
                await fn(m, p);
            } catch (e) {
                if (e.status === 401) return;
                clear(m);
                m.appendChild(h('div', { class: 'panel' }, h('h1', null, 'Something went wrong'), h('p', { class: 'error', role: 'alert' }, e.message)));
            }
            // the page is interactive: rendered and its handlers bound (the UI tests time this)
            performance.mark(`berth-ready ${hash}`);
            document.body.dataset.ready = hash;
            return;
        }
    }
    clear(m);
    m.appendChild(h('div', { class: 'panel' }, h('h1', null, 'Not found'), h('p', null, 'No page here. '), h('a', { href: '#/projects' }, 'Back to projects')));
    document.body.dataset.ready = hash;
}

function renderHeader() {
    const hdr = document.getElementById('header');
    clear(hdr);
    const u = ctx.user;
    const hash = location.hash || '#/projects';
    const nav = h('nav', { 'aria-label': 'Main' },
        h('a', { href: '#/projects', class: 'navlink', 'aria-current': hash.startsWith('#/projects') ? 'true' : null }, 'Projects'),
        u.sysadmin_flag ? h('a', { href: '#/admin/users', class: 'navlink', id: 'nav-admin', 'aria-current': hash.startsWith('#/admin') ? 'true' : null }, 'Administration') : null);
    const menu = h('details', { class: 'usermenu' },
        h('summary', null, h('span', { class: 'avatar', 'aria-hidden': 'true' }, (u.username[0] || '?').toUpperCase()), h('span', { class: 'uname' }, u.username), h('span', { class: 'sr-only' }, ' (account menu)')),
        h('div', { class: 'menu' },
            h('p', { class: 'muted' }, u.realname ? u.realname : u.username, u.sysadmin_flag ? ' · system admin' : ''),
            h('a', { href: '#/account', class: 'menuitem' }, 'Change password'),
            h('button', { type: 'button', class: 'menuitem', id: 'logout', on: { click: logout } }, 'Log out')));
    menu.addEventListener('keydown', (ev) => {
        if (ev.key === 'Escape' && menu.open) {
            menu.open = false;
            menu.querySelector('summary').focus();
        }
    });
    menu.addEventListener('focusout', (ev) => {
        if (!menu.contains(ev.relatedTarget)) menu.open = false;
    });
    hdr.appendChild(h('div', { class: 'bar' }, h('a', { href: '#/projects', class: 'brand' }, 'Berth'), nav, menu));
}

async function logout() {
    try {
        await api.logout();
    } finally {
        ctx.user = null;
        ctx.loginMessage = 'You have logged out.';
        clear(document.getElementById('header'));
        location.hash = '#/login';
        route();
    }
}

function renderLogin(m) {
    setTitle('Log in');
    clear(document.getElementById('header'));
    clear(m);
    const user = h('input', { name: 'principal', autocomplete: 'username', required: true });
    const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    const msg = ctx.loginMessage ? h('p', { class: 'notice', role: 'status', id: 'login-message' }, ctx.loginMessage) : null;
    const btn = h('button', { type: 'submit', class: 'btn primary' }, 'Log in');
    const form = h('form', { class: 'login panel', 'aria-labelledby': 'login-title' },
        h('h1', { id: 'login-title' }, 'Berth'), h('p', { class: 'muted' }, 'Container registry · log in to manage projects'),
        msg, field('User name', user), field('Password', pass), err, btn);
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        btn.disabled = true;
        try {
            await api.login(user.value.trim(), pass.value);
            pass.value = '';
            ctx.user = await api.currentUser();
            ctx.loginMessage = '';
            if (!location.hash || location.hash === '#/login') location.hash = '#/projects';
            else route();
        } catch (e) {
            err.textContent = e.status === 401 ? 'Wrong user name or password.' : e.message;
            err.hidden = false;
        } finally {
            btn.disabled = false;
        }
    });
    m.appendChild(form);
    user.focus();
    document.body.dataset.ready = 'login';
}

function renderAccount(m) {
    setTitle('Change password');
    const oldp = h('input', { type: 'password', autocomplete: 'current-password', required: true });
    const newp = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
    const again = h('input', { type: 'password', autocomplete: 'new-password', required: true });
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    const form = h('form', { class: 'panel narrow' }, h('h1', null, 'Change password'),
        h('p', { class: 'muted' }, `Signed in as ${ctx.user.username}`),
        field('Current password', oldp), field('New password', newp, 'At least 8 characters with upper and lower case letters and a digit.'), field('New password again', again), err,
        h('button', { type: 'submit', class: 'btn primary' }, 'Change password'));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        if (newp.value !== again.value) {
            err.textContent = 'The new passwords differ.';
            err.hidden = false;
            return;
        }
        try {
            await api.setPassword(ctx.user.user_id, { old_password: oldp.value, new_password: newp.value }, true);
            form.reset();
            // the server ends every session of a user whose password changed
            await api.logout();
            ctx.user = null;
            ctx.loginMessage = 'Password changed. Log in with the new password.';
            location.hash = '#/login';
            route();
        } catch (e) {
            err.textContent = e.message;
            err.hidden = false;
        }
    });
    m.appendChild(form);
}

ctx.sessionEnded = async (message) => {
    await api.logout();
    ctx.user = null;
    ctx.loginMessage = message;
    location.hash = '#/login';
    route();
};

onSessionEnd(() => {
    if (!ctx.user) return;
    ctx.user = null;
    ctx.loginMessage = 'Your session has expired. Please log in again.';
    route();
});

async function start() {
    try {
        const s = await api.session();
        ctx.user = s.user;
        if (s.info && s.info.registry_url) ctx.host = s.info.registry_url.replace(/^https?:\/\//, '').replace(/\/$/, '');
    } catch (e) {
        ctx.user = null;
    }
    window.addEventListener('hashchange', route);
    route();
}

start();
