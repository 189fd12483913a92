// pages.test.mjs - every page of the web UI, as a system admin, at 1280x800 and 390x844: it
// renders without a console error, axe-core finds no serious or critical violation, and a
// screenshot lands under build/ui-screenshots/.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { run, startServer, browser, newPage, login, goto, shot, ready, step, check, eq, diag, must, createUser, pushTiny, until, password, apiCall } from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

async function axeCheck(page, name) {
    await page.evaluate(`${AXE}\n;0`);
    const res = await page.evaluate(async () => {
        // eslint-disable-next-line no-undef
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((x) => x.target.join(' ')) }));
    });
    const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    check(`axe: no serious or critical violation on ${name}`, bad.length === 0, ...bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(' | ')}`));
    const minor = res.filter((v) => !bad.includes(v));
    if (minor.length) diag(`${name}: minor axe findings: ${minor.map((v) => `${v.impact} ${v.id}`).join(', ')}`);
}

run(async () => {
    const srv = await startServer({ conf: 'pull_flush_s = 1\n' });
    const admin = `admin:${srv.adminPass}`;
    // seed: a public project with three repositories, pulls, members, robots, users
    await step('seed data through the API', async () => {
        await must(srv, 'POST', '/projects', { body: { project_name: 'demo', metadata: { public: 'true' }, storage_limit: 1024 * 1024 * 1024 } });
        const pw = password();
        await createUser(srv, 'alice', pw, { realname: 'Alice Liddell' });
        await createUser(srv, 'bob', pw, { realname: 'Bob Builder' });
        await must(srv, 'POST', '/projects/demo/members', { body: { role_id: 2, member_user: { username: 'alice' } } });
        await must(srv, 'POST', '/projects/demo/members', { body: { role_id: 3, member_user: { username: 'bob' } } });
        const d1 = await pushTiny(srv, 'demo/web', 'v1', admin);
        await pushTiny(srv, 'demo/web', 'v2', admin);
        await pushTiny(srv, 'demo/api', 'latest', admin);
        await pushTiny(srv, 'demo/tools/cli', '1.0', admin);
        for (let i = 0; i < 4; i++) await must(srv, 'GET', '/v2/demo/web/manifests/v1', { auth: admin, headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
        await must(srv, 'GET', '/v2/demo/api/manifests/latest', { auth: admin, headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
        await must(srv, 'POST', '/robots', { body: { name: 'ci', description: 'pulls for the cluster', level: 'project', duration: 30, permissions: [{ kind: 'project', namespace: 'demo', access: [{ resource: 'repository', action: 'pull' }] }] } });
        await must(srv, 'POST', '/robots', { body: { name: 'backup', description: 'system-wide', level: 'system', duration: -1, permissions: [{ kind: 'project', namespace: '*', access: [{ resource: 'repository', action: 'pull' }] }] } });
        // a multi-platform index over two images
        const kids = [];
        for (const arch of ['amd64', 'arm64']) {
            const dg = await pushTiny(srv, 'demo/multi', `only-${arch}`, admin);
            const r = await must(srv, 'GET', `/v2/demo/multi/manifests/${dg}`, { auth: admin, headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
            kids.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: dg, size: Buffer.byteLength(r.text), platform: { os: 'linux', architecture: arch } });
        }
        const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: kids });
        await must(srv, 'PUT', '/v2/demo/multi/manifests/1.0', { auth: admin, body: index, raw: true, headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } }, [201]);
        await must(srv, 'POST', '/system/gc/schedule', { body: { schedule: { type: 'Manual' }, parameters: { dry_run: true } } }, [201]);
        await until('pull counts flushed', async () => (await apiCall(srv, 'GET', '/projects/demo/repositories/web')).json.pull_count === 4);
        return d1;
    });

    const b = await browser();
    const pages = [
        ['projects', '#/projects'],
        ['project-summary', '#/projects/demo/summary'],
        ['project-repositories', '#/projects/demo/repositories'],
        ['project-pulls', '#/projects/demo/pulls'],
        ['repository-artifacts', '#/projects/demo/repositories/web'],
        ['project-members', '#/projects/demo/members'],
        ['project-robots', '#/projects/demo/robots'],
        ['project-logs', '#/projects/demo/logs'],
        ['admin-users', '#/admin/users'],
        ['admin-robots', '#/admin/robots'],
        ['admin-logs', '#/admin/logs'],
        ['admin-pulls', '#/admin/pulls'],
        ['admin-gc', '#/admin/gc'],
        ['account', '#/account'],
    ];
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
        const tag = `${viewport.width}x${viewport.height}`;
        const page = await newPage(b, srv, { viewport, name: tag });
        await step(`${tag}: login page renders`, async () => {
            await page.goto('/');
            await ready(page, 'login');
        });
        await shot(page, 'login');
        await axeCheck(page, `login ${tag}`);
        await step(`${tag}: log in as admin`, () => login(page, 'admin', srv.adminPass));
        for (const [name, hash] of pages) {
            const okPage = await step(`${tag}: ${name} renders`, async () => {
                await goto(page, hash);
                if (name === 'project-summary') await page.waitForSelector('.chart canvas', { timeout: 10000 });
                return true;
            });
            if (!okPage) continue;
            const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
            check(`${name} ${tag}: no sideways scrolling`, widths[0] <= widths[1], `page ${widths[0]} px wide in a ${widths[1]} px window`);
            await shot(page, name);
            await axeCheck(page, `${name} ${tag}`);
        }
        await step(`${tag}: the index shows its platforms`, async () => {
            await goto(page, '#/projects/demo/repositories/multi');
            await page.waitForSelector('li[data-tag="1.0"]');
        });
        const plat = await page.locator('tr', { has: page.locator('li[data-tag="1.0"]') }).locator('td[data-label="Platforms"]').textContent();
        eq(`${tag}: platforms of the index`, plat, 'linux/amd64, linux/arm64');
        await shot(page, 'repository-index');

        // dialogs: new project, new robot (and its secret), the user menu
        await step(`${tag}: new project dialog`, async () => {
            await goto(page, '#/projects');
            await page.click('#new-project');
            await page.waitForSelector('dialog[open]');
        });
        await shot(page, 'dialog-new-project');
        await axeCheck(page, `new project dialog ${tag}`);
        await page.keyboard.press('Escape');
        await step(`${tag}: robot secret dialog`, async () => {
            await goto(page, '#/projects/demo/robots');
            await page.click('#new-robot');
            await page.getByLabel('Name', { exact: true }).fill(`shot${viewport.width}`);
            await page.getByRole('button', { name: 'Create', exact: true }).click();
            await page.waitForSelector('#robot-secret');
        });
        await shot(page, 'dialog-robot-secret');
        await axeCheck(page, `robot secret dialog ${tag}`);
        await page.keyboard.press('Escape');
        await step(`${tag}: user menu opens`, async () => {
            await page.click('.usermenu summary');
            await page.waitForSelector('#logout', { state: 'visible' });
        });
        await shot(page, 'user-menu');
        await page.context().close();
    }

    // the narrowest phone width the issue names: every page fits 360 px
    const narrow = await newPage(b, srv, { name: '360x740', viewport: { width: 360, height: 740 } });
    await step('360x740: log in', () => login(narrow, 'admin', srv.adminPass));
    for (const [name, hash] of pages) {
        await step(`360x740: ${name} renders`, () => goto(narrow, hash));
        const widths = await narrow.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
        check(`${name} 360x740: no sideways scrolling`, widths[0] <= widths[1], `page ${widths[0]} px wide in a ${widths[1]} px window`);
    }
    await narrow.context().close();

    // the chart module's time series, drawn from made-up data
    const tpage = await newPage(b, srv, { name: 'time-series' });
    await step('time-series chart: log in', () => login(tpage, 'admin', srv.adminPass));
    const ts = await step('time-series chart: pullChart draws lines per tag over days', () => tpage.evaluate(async () => {
        const { pullChart } = await import('/chart.js');
        const box = document.createElement('div');
        box.className = 'card chart-card';
        document.querySelector('main').appendChild(box);
        const day = 86400;
        const t0 = Math.floor(Date.UTC(2026, 10, 1) / 1000);
        const x = Array.from({ length: 14 }, (_, i) => t0 + i * day);
        await pullChart(box, { kind: 'time', step: 'day', title: 'Pulls per day by tag', x, series: [{ label: 'v1', values: x.map((_, i) => i % 5) }, { label: 'v2', values: x.map((_, i) => 2 * i) }] });
        return { canvas: !!box.querySelector('canvas'), rows: box.querySelectorAll('.chart-data tbody tr').length, totals: [...box.querySelectorAll('.chart-data tfoot td')].map((td) => td.textContent).join(','), total: box.querySelector('#chart-total').textContent, legend: box.querySelectorAll('.u-legend .u-series').length };
    }));
    if (ts) {
        check('time-series chart: drawn on a canvas', ts.canvas);
        check('time-series chart: one data row per day with pulls (13 of 14)', ts.rows === 13, JSON.stringify(ts));
        check('time-series chart: a row of totals per series', ts.totals === '26,182', JSON.stringify(ts));
        check('time-series chart: the total adds both series', ts.total === '208 pulls', ts.total);
        check('time-series chart: a legend entry per series', ts.legend >= 2, JSON.stringify(ts));
    }
    await shot(tpage, 'chart-time-series');
    await tpage.context().close();

    // the dark scheme (prefers-color-scheme: dark), keyboard only
    const dark = await newPage(b, srv, { name: 'dark', colorScheme: 'dark' });
    await step('dark: log in with the keyboard alone', async () => {
        await dark.goto('/');
        await ready(dark, 'login');
        await dark.keyboard.type('admin');
        await dark.keyboard.press('Tab');
        await dark.keyboard.type(srv.adminPass);
        await dark.keyboard.press('Enter');
        await dark.waitForFunction(() => document.body.dataset.ready && document.body.dataset.ready !== 'login');
        await ready(dark);
    });
    for (const [name, hash] of [['projects', '#/projects'], ['project-summary', '#/projects/demo/summary'], ['repository-artifacts', '#/projects/demo/repositories/web']]) {
        await step(`dark: ${name} renders`, async () => {
            await goto(dark, hash);
            if (name === 'project-summary') await dark.waitForSelector('.chart canvas', { timeout: 10000 });
        });
        await shot(dark, `${name}-dark`);
        await axeCheck(dark, `${name} (dark)`);
    }
    await step('dark: the user menu opens and closes from the keyboard', async () => {
        await dark.focus('.usermenu summary');
        await dark.keyboard.press('Enter');
        await dark.waitForSelector('#logout', { state: 'visible' });
        await dark.keyboard.press('Escape');
        await dark.waitForSelector('#logout', { state: 'hidden' });
    });
});
