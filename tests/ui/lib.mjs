// lib.mjs - shared harness of the browser tests (tests/ui/*.test.mjs).
//
// A test file imports this module, starts the real binary with startServer (BERTH_BIN, default
// build/asan/berth, on a free loopback port with a fresh data dir; stopped by its PID), opens
// Debian's Chromium through playwright-core with browser(), runs checks with check/ok/notOk and
// ends with finish(), which prints the closing line "N passed, N failed" and sets the exit code.
//
// Invariants:
//   1. Every check prints one "ok N - name" or "not ok N - name" line, diagnostics as "# ".
//   2. Any console error or uncaught exception in a page is a failed check, unless the test
//      declared it expected with page.expectConsole(RE) (an HTTP refusal the test provokes).
//   3. Readiness is polled with a deadline, never waited for by a fixed sleep.
//   4. Servers are stopped by PID (SIGTERM, then a clean exit and a log free of sanitizer reports
//      are checked); the data dir is removed unless UI_KEEP=1.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, createHash } from 'node:crypto';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const SHOTS = path.join(ROOT, 'build/ui-screenshots');
const BIN = process.env.BERTH_BIN ? path.resolve(ROOT, process.env.BERTH_BIN) : path.join(ROOT, 'build/asan/berth');

let pass = 0;
let fail = 0;
let n = 0;
const cleanups = [];

export function ok(name) {
    n++;
    pass++;
    console.log(`ok ${n} - ${name}`);
}
export function notOk(name, ...diag) {
    n++;
    fail++;
    console.log(`not ok ${n} - ${name}`);
    for (const d of diag) for (const line of String(d).split('\n')) console.log(`# ${line}`);
}
export function check(name, cond, ...diag) {
    if (cond) ok(name);
    else notOk(name, ...diag);
    return !!cond;
}
export function eq(name, got, want) {
    return check(name, got === want, `got:  ${JSON.stringify(got)}`, `want: ${JSON.stringify(want)}`);
}
export function diag(...lines) {
    for (const l of lines) console.log(`# ${l}`);
}

// step(name, fn): runs fn; an exception is one failed check named name (the test goes on).
export async function step(name, fn) {
    try {
        const r = await fn();
        ok(name);
        return r;
    } catch (e) {
        notOk(name, e && e.stack ? e.stack.split('\n').slice(0, 6).join('\n') : String(e));
        return undefined;
    }
}

export async function finish() {
    for (const c of cleanups.reverse()) {
        try {
            await c();
        } catch (e) {
            notOk('cleanup', String(e));
        }
    }
    console.log(`${pass} passed, ${fail} failed`);
    process.exit(fail === 0 && pass > 0 ? 0 : 1);
}

// run(main): the body of a test file, with finish() at the end whatever happens.
export function run(main) {
    const guard = setTimeout(() => {
        notOk('test file finishes within its deadline');
        finish();
    }, Number(process.env.UI_TEST_DEADLINE_MS || 240000));
    guard.unref();
    main().catch((e) => notOk('test body', e && e.stack ? e.stack : String(e))).finally(finish);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// until(what, fn, ms): polls fn (truthy result wins) every 100 ms until the deadline.
export async function until(what, fn, ms = 15000) {
    const end = Date.now() + ms;
    let last;
    for (;;) {
        try {
            last = await fn();
            if (last) return last;
        } catch (e) {
            last = e;
        }
        if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
        await sleep(100);
    }
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.unref();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

export function password() {
    return `Ui-${randomBytes(9).toString('hex')}A1`;
}

// startServer({conf}): the binary on a free port, fresh data dir; conf: text of a config file.
export async function startServer({ conf } = {}) {
    const tmp = mkdtempSync(path.join(process.env.TMPDIR || tmpdir(), 'berth-ui.'));
    const data = path.join(tmp, 'data');
    mkdirSync(data);
    const adminPass = password();
    for (let tries = 0; tries < 3; tries++) {
        const port = await freePort();
        const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data', data];
        if (conf) {
            writeFileSync(path.join(tmp, 'berth.conf'), conf);
            args.push('--config', path.join(tmp, 'berth.conf'));
        }
        const logFile = path.join(tmp, `server.${port}.log`);
        let log = '';
        const child = spawn(BIN, args, {
            env: Object.assign({}, process.env, {
                BERTH_ADMIN_PASSWORD: adminPass,
                ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=1',
                UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || 'print_stacktrace=1',
            }),
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stdout.on('data', (d) => { log += d; });
        child.stderr.on('data', (d) => { log += d; });
        let exited = null;
        child.on('exit', (code, sig) => { exited = { code, sig }; });
        const url = `http://127.0.0.1:${port}`;
        const deadline = Date.now() + 30000;
        let up = false;
        while (Date.now() < deadline && !exited) {
            try {
                const r = await fetch(`${url}/api/v2.0/ping`);
                if (r.status === 200) {
                    up = true;
                    break;
                }
            } catch (_) {
                /* not yet */
            }
            await sleep(50);
        }
        if (!up) {
            if (!exited) child.kill('SIGKILL');
            if (/in use/i.test(log) && tries < 2) continue;
            notOk('server starts within 30 s', log.slice(-2000));
            throw new Error('server did not start');
        }
        ok(`server started on 127.0.0.1:${port}`);
        const srv = {
            url,
            hostport: `127.0.0.1:${port}`,
            adminPass,
            tmp,
            data,
            log: () => log,
            async stop() {
                if (exited) {
                    notOk('server still running at the end', `exit ${JSON.stringify(exited)}`, log.slice(-2000));
                    return;
                }
                child.kill('SIGTERM');
                const end = Date.now() + 20000;
                while (!exited && Date.now() < end) await sleep(50);
                if (!exited) {
                    child.kill('SIGKILL');
                    notOk('server stops within 20 s of SIGTERM');
                } else {
                    eq('server exits 0 on SIGTERM', exited.code, 0);
                }
                writeFileSync(logFile, log);
                check('server log free of sanitizer reports', !/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)/.test(log), log.slice(-3000));
                if (process.env.UI_KEEP === '1') diag(`kept ${tmp}`);
                else rmSync(tmp, { recursive: true, force: true });
            },
        };
        cleanups.push(() => srv.stop());
        return srv;
    }
    throw new Error('no free port');
}

// apiCall(srv, method, path, {auth: 'user:pass', body, headers}): a direct API call (Basic auth).
export async function apiCall(srv, method, p, { auth, body, headers, raw } = {}) {
    const h = Object.assign({ Accept: 'application/json' }, headers || {});
    const cred = auth === undefined ? `admin:${srv.adminPass}` : auth;
    if (cred) h.Authorization = `Basic ${Buffer.from(cred).toString('base64')}`;
    let b = body;
    if (body !== undefined && !raw && typeof body !== 'string' && !(body instanceof Uint8Array)) {
        h['Content-Type'] = 'application/json';
        b = JSON.stringify(body);
    }
    const res = await fetch(`${srv.url}${p.startsWith('/') && !p.startsWith('/api/') && !p.startsWith('/v2/') && !p.startsWith('/c/') ? `/api/v2.0${p}` : p}`, { method, headers: h, body: b });
    const text = await res.text();
    let json = null;
    try {
        json = text ? JSON.parse(text) : null;
    } catch (_) {
        json = null;
    }
    return { status: res.status, headers: res.headers, text, json };
}

export async function must(srv, method, p, opts, want = [200, 201]) {
    const r = await apiCall(srv, method, p, opts);
    if (!want.includes(r.status)) throw new Error(`${method} ${p}: ${r.status} ${r.text.slice(0, 300)}`);
    return r;
}

export async function createUser(srv, username, pass, extra = {}) {
    await must(srv, 'POST', '/users', { body: Object.assign({ username, password: pass, email: `${username}@example.test`, realname: username }, extra) });
}

// ---- browser ----

export async function browser() {
    const b = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
    cleanups.push(() => b.close());
    return b;
}

// newPage(browser, srv, {viewport}): a page in a fresh context (own cookies) whose console errors
// and page errors fail the test unless expected.
export async function newPage(b, srv, { viewport, name, colorScheme } = {}) {
    const context = await b.newContext({ viewport: viewport || { width: 1280, height: 800 }, baseURL: srv.url, colorScheme: colorScheme || 'light' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
    const page = await context.newPage();
    const expected = [];
    const label = name || 'page';
    page.expectConsole = (re) => expected.push(re);
    page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const text = `${msg.text()} ${msg.location() && msg.location().url ? `(${msg.location().url})` : ''}`;
        const i = expected.findIndex((re) => re.test(text));
        if (i >= 0) {
            expected.splice(i, 1);
            return;
        }
        notOk(`${label}: no console error`, text);
    });
    page.on('pageerror', (err) => notOk(`${label}: no uncaught exception`, err.stack || String(err)));
    return page;
}

export async function ready(page, what) {
    await page.waitForFunction((w) => document.body.dataset.ready && (!w || document.body.dataset.ready === w || document.body.dataset.ready.startsWith(w)), what || '', { timeout: 15000 });
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'), null, { timeout: 15000 });
}

export async function login(page, user, pass) {
    await page.goto('/');
    await ready(page, 'login');
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(pass);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForFunction(() => document.body.dataset.ready && document.body.dataset.ready !== 'login', null, { timeout: 15000 });
    await ready(page);
}

export async function goto(page, hash) {
    await page.evaluate((hs) => {
        document.body.removeAttribute('data-ready');
        if (location.hash === hs) window.dispatchEvent(new HashChangeEvent('hashchange'));
        else location.hash = hs;
    }, hash);
    await ready(page, hash);
}

export async function shot(page, name) {
    mkdirSync(SHOTS, { recursive: true });
    const vp = page.viewportSize();
    const file = path.join(SHOTS, `${name}-${vp.width}x${vp.height}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
}

// ---- images ----

function sha256(buf) {
    return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}

// pushTiny(srv, repo, tag, auth): a tiny OCI image (config + one small layer) pushed with
// monolithic blob uploads and a manifest PUT. Returns the manifest digest.
export async function pushTiny(srv, repo, tag, auth) {
    const layer = Buffer.from(randomBytes(32).toString('hex'));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
    for (const blob of [config, layer]) {
        const d = sha256(blob);
        const r = await must(srv, 'POST', `/v2/${repo}/blobs/uploads/`, { auth }, [202]);
        let loc = r.headers.get('location');
        if (!/^https?:/.test(loc)) loc = `${loc}`;
        const u = new URL(loc, srv.url);
        u.searchParams.set('digest', d);
        await must(srv, 'PUT', u.pathname + u.search, { auth, body: blob, raw: true, headers: { 'Content-Type': 'application/octet-stream' } }, [201]);
    }
    const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    }));
    await must(srv, 'PUT', `/v2/${repo}/manifests/${tag}`, { auth, body: manifest, raw: true, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } }, [201]);
    return sha256(manifest);
}

export function sh(cmd, args, opts = {}) {
    return new Promise((resolve, reject) => {
        execFile(cmd, args, Object.assign({ maxBuffer: 16 << 20 }, opts), (err, stdout, stderr) => {
            if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
            else resolve(stdout);
        });
    });
}

export { readFileSync, path };

// ociLayout(dir, tag): an OCI image layout holding one small unique image (for skopeo).
export async function ociLayout(dir, tag) {
    const { mkdirSync: mk, writeFileSync: wr } = await import('node:fs');
    const zlib = await import('node:zlib');
    const root = path.join(dir, 'root');
    mk(root, { recursive: true });
    wr(path.join(root, 'seed.txt'), randomBytes(32).toString('hex'));
    const tarFile = path.join(dir, 'layer.tar');
    await sh('tar', ['-C', root, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', tarFile, '.']);
    const tar = readFileSync(tarFile);
    const gz = zlib.gzipSync(tar);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(tar)] } }));
    const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(gz), size: gz.length }],
    }));
    const layout = path.join(dir, 'layout');
    mk(path.join(layout, 'blobs/sha256'), { recursive: true });
    for (const b of [config, gz, manifest]) wr(path.join(layout, 'blobs/sha256', sha256(b).slice(7)), b);
    wr(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    wr(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
    return { layout, digest: sha256(manifest) };
}

export async function clipboard(page) {
    return page.evaluate(() => navigator.clipboard.readText());
}
