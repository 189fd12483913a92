// api.js - the only module that calls fetch. The session lives in the HttpOnly cookie `sid` set
// by POST /c/login; its CSRF token is kept in memory only (taken from the X-Harbor-CSRF-Token
// header of the login answer and of every API answer made with the session) and echoed on every
// unsafe method. A 401 on a call made with a session means the session ended: the handler set by
// onSessionEnd runs (the app goes back to the login page with a message).

const BASE = '/api/v2.0';
const CSRF = 'X-Harbor-CSRF-Token';

let csrf = '';
let sessionEnd = null;
let loggedIn = false;

export class ApiError extends Error {
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

export function onSessionEnd(fn) {
    sessionEnd = fn;
}

function qs(params) {
    if (!params) return '';
    const parts = [];
    for (const [k, v] of Object.entries(params)) {
        if (v === undefined || v === null || v === '') continue;
        parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
    }
    return parts.length ? `?${parts.join('&')}` : '';
}

async function errorOf(res) {
    let msg = `${res.status} ${res.statusText}`;
    try {
        const j = await res.json();
        if (j && Array.isArray(j.errors) && j.errors.length) msg = j.errors.map((e) => e.message).join('; ');
    } catch (_) {
        /* not JSON */
    }
    return new ApiError(res.status, msg);
}

async function call(method, path, { body, query, raw, mayEnd } = {}) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    if (method !== 'GET' && method !== 'HEAD' && csrf) headers[CSRF] = csrf;
    const res = await fetch(`${raw ? '' : BASE}${path}${qs(query)}`, init);
    const t = res.headers.get(CSRF);
    if (t) csrf = t;
    // every answer made with a live session carries its token: one without it (or a 401) means
    // the session ended (expired or logged out elsewhere) and the call ran anonymously
    // (mayEnd: a call that ends the session itself when it succeeds, as changing one's password)
    if (loggedIn && !(mayEnd && res.ok) && (res.status === 401 || (!t && res.status < 500))) {
        loggedIn = false;
        csrf = '';
        if (sessionEnd) sessionEnd();
        throw new ApiError(401, 'Your session has ended. Please log in again.');
    }
    if (!res.ok) throw await errorOf(res);
    const total = Number(res.headers.get('X-Total-Count') || 0);
    const sizeHdr = res.headers.get('X-Total-Size');
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    return { data, total, size: sizeHdr === null ? null : Number(sizeHdr) };
}

const get = async (path, query) => (await call('GET', path, { query })).data;
const list = async (path, query) => {
    const { data, total, size } = await call('GET', path, { query });
    return { items: data || [], total, size };
};
const post = async (path, body) => (await call('POST', path, { body })).data;
const put = async (path, body) => (await call('PUT', path, { body })).data;
const patch = async (path, body) => (await call('PATCH', path, { body })).data;
const del = async (path) => (await call('DELETE', path)).data;

const P = (name) => `/projects/${encodeURIComponent(name)}`;
// a repository path segment: the name without its project, escaped twice (Harbor's rule for '/')
const R = (project, repo) => {
    const short = repo.startsWith(`${project}/`) ? repo.slice(project.length + 1) : repo;
    return `${P(project)}/repositories/${encodeURIComponent(encodeURIComponent(short))}`;
};

const pullBase = (s) => {
    if (!s.project) return '';
    if (!s.repo) return P(s.project);
    if (!s.reference) return R(s.project, s.repo);
    return `${R(s.project, s.repo)}/artifacts/${encodeURIComponent(s.reference)}`;
};

// paging: {page, pageSize, sort, q} -> the API's query (q as Harbor's name=~fuzzy)
function pq(o, key = 'name', extra) {
    const q = { page: o.page, page_size: o.pageSize, sort: o.sort || undefined };
    if (o.q) q.q = `${key}=~${o.q}`;
    return Object.assign(q, extra || {});
}

export const api = {
    // session
    async login(principal, password) {
        const form = new URLSearchParams({ principal, password });
        const res = await fetch('/c/login', {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: form.toString(),
        });
        if (!res.ok) throw await errorOf(res);
        csrf = res.headers.get(CSRF) || '';
        loggedIn = true;
    },
    async logout() {
        loggedIn = false;
        await fetch('/c/log_out', { method: 'POST', credentials: 'same-origin', headers: csrf ? { [CSRF]: csrf } : {} });
        csrf = '';
    },
    // session(): the system info, and the current user when the cookie holds a live session (the
    // answer then carries the CSRF token); asked without a 401, which a browser would log
    async session() {
        const res = await fetch(`${BASE}/systeminfo`, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
        if (!res.ok) throw await errorOf(res);
        const info = await res.json();
        const t = res.headers.get(CSRF);
        if (!t) return { info, user: null };
        csrf = t;
        loggedIn = true;
        return { info, user: await get('/users/current') };
    },
    // current user: null when there is no session
    async currentUser() {
        try {
            const u = await get('/users/current');
            loggedIn = true;
            return u;
        } catch (e) {
            if (e.status === 401) return null;
            throw e;
        }
    },
    systemInfo: () => get('/systeminfo'),
    statistics: () => get('/statistics'),

    // projects
    projects: (o) => list('/projects', pq(o, 'name', o.withPulls ? { with_pulls: 'true' } : undefined)),
    project: (name) => get(P(name)),
    createProject: (b) => post('/projects', b),
    updateProject: (name, b) => put(P(name), b),
    deleteProject: (name) => del(P(name)),
    projectSummary: (name) => get(`${P(name)}/summary`),
    projectLogs: (name, o) => list(`${P(name)}/logs`, pq(o, 'username')),

    // repositories and artifacts
    repositories: (project, o) => list(`${P(project)}/repositories`, pq(o, 'name')),
    repository: (project, repo) => get(R(project, repo)),
    deleteRepository: (project, repo) => del(R(project, repo)),
    artifacts: (project, repo, o) => list(`${R(project, repo)}/artifacts`, Object.assign(pq(o, 'tags'), { with_tag: 'true' })),
    deleteArtifact: (project, repo, digest) => del(`${R(project, repo)}/artifacts/${encodeURIComponent(digest)}`),
    deleteTag: (project, repo, digest, tag) => del(`${R(project, repo)}/artifacts/${encodeURIComponent(digest)}/tags/${encodeURIComponent(tag)}`),

    // pull analytics: scope is {project} or {project, repo} or {project, repo, reference} or
    // {} (the whole registry, system administrators); w: {from, to, granularity, group_by}
    pullSeries: (scope, w) => get(`${pullBase(scope)}/pulls/timeseries`, w),
    pullTop: (project, w) => get(`${project ? P(project) : ''}/pulls/top`, w),
    pullStale: (project, o) => list(`${project ? P(project) : ''}/pulls/stale`, { page: o.page, page_size: o.pageSize, days: o.days, kind: o.kind }),

    // members
    members: (project, o) => list(`${P(project)}/members`, { page: o.page, page_size: o.pageSize, entityname: o.q || undefined }),
    addMember: (project, username, roleId) => post(`${P(project)}/members`, { role_id: roleId, member_user: { username } }),
    setMemberRole: (project, mid, roleId) => put(`${P(project)}/members/${mid}`, { role_id: roleId }),
    removeMember: (project, mid) => del(`${P(project)}/members/${mid}`),

    // robots
    projectRobots: (project, o) => list(`${P(project)}/robots`, pq(o, 'name')),
    systemRobots: (o) => list('/robots', pq(o, 'name', { q: o.q ? `Level=system,name=~${o.q}` : 'Level=system' })),
    createRobot: (b) => post('/robots', b),
    updateRobot: (id, b) => put(`/robots/${id}`, b),
    refreshRobot: (id) => patch(`/robots/${id}`, {}),
    deleteRobot: (id) => del(`/robots/${id}`),

    // users
    users: (o) => list('/users', pq(o, 'username')),
    searchUsers: (username) => list('/users/search', { username, page: 1, page_size: 10 }),
    createUser: (b) => post('/users', b),
    deleteUser: (id) => del(`/users/${id}`),
    setSysadmin: (id, flag) => put(`/users/${id}/sysadmin`, { sysadmin_flag: flag }),
    // own: the caller's password, whose change ends the caller's sessions
    setPassword: async (id, b, own) => (await call('PUT', `/users/${id}/password`, { body: b, mayEnd: own })).data,

    // audit
    auditLogs: (o) => list('/audit-logs', pq(o, 'username')),

    // garbage collection (Harbor's /system/gc); the log is a text page, linked to, not fetched
    gcRuns: (o) => list('/system/gc', { page: o.page, page_size: o.pageSize }),
    gcStart: (dryRun) => post('/system/gc/schedule', { schedule: { type: 'Manual' }, parameters: { dry_run: dryRun } }),
    gcLogUrl: (id) => `${BASE}/system/gc/${encodeURIComponent(id)}/log`,
};
