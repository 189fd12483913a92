// pulls.test.mjs - the pull reports in the browser. A private project "team" holds app:1.0,
// app:2.0 and app:old (never pulled); a robot pulls app:1.0 twice with skopeo, the user dev1
// pulls app:1.0 three times and app:2.0 once with curl sending docker's User-Agent. Then:
// the project's Pulls tab shows the right totals per split (tag, artifact, user or robot,
// client family; read from the chart's hidden table), the top repositories and tags, and the
// never-pulled artifact as stale with its size and the total; the projects list shows the
// 7-day count; the repository and artifact charts add up; the admin's system report shows the
// whole registry; dev1 sees only their projects' reports and no system report (the page says so
// and the API refuses). Screenshots at 1280 and 360 px wide, light and dark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { run, startServer, browser, newPage, login, goto, step, check, eq, diag, must, apiCall, createUser, password, pushTiny, ociLayout, sh, shot } from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const OCI = 'application/vnd.oci.image.manifest.v1+json';

async function axeCheck(page, name) {
    await page.evaluate(`${AXE}\n;0`);
    const res = await page.evaluate(async () => {
        // eslint-disable-next-line no-undef
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((x) => x.target.join(' ')) }));
    });
    const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    check(`axe: no serious or critical violation on ${name}`, bad.length === 0, ...bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(' | ')}`));
}

// chartTotals: {series label: total} from the hidden table of the chart in card (its tfoot)
function chartTotals(page, card) {
    return page.evaluate((sel) => {
        const box = document.querySelector(sel);
        const heads = [...box.querySelectorAll('.chart-data thead th')].map((th) => th.textContent);
        const tots = [...box.querySelectorAll('.chart-data tfoot tr > *')].map((c) => c.textContent);
        const out = {};
        heads.slice(1).forEach((hd, i) => { out[hd] = Number(tots[i + 1]); });
        return out;
    }, card);
}

async function setSplit(page, prefix, value) {
    const before = await page.getAttribute(`#${prefix}-card`, 'data-loaded');
    await page.selectOption(`#${prefix}-split`, value);
    await page.waitForFunction(([p, b]) => {
        const c = document.getElementById(`${p}-card`);
        return c.dataset.loaded !== b && !c.hasAttribute('aria-busy');
    }, [prefix, before]);
}

const sorted = (o) => JSON.stringify(Object.fromEntries(Object.entries(o).sort()));

run(async () => {
    const srv = await startServer({ conf: 'pull_flush_s = 1\n' });
    const admin = `admin:${srv.adminPass}`;
    const devPass = password();
    const work = mkdtempSync(path.join(tmpdir(), 'berth-ui-pulls.'));
    const dig = {};
    let oldSize = 0;
    try {
        await step('seed: projects team (private) and side, user dev1 in team only, a pull robot', async () => {
            await must(srv, 'POST', '/projects', { body: { project_name: 'team', metadata: { public: 'false' } } });
            await must(srv, 'POST', '/projects', { body: { project_name: 'side', metadata: { public: 'false' } } });
            await createUser(srv, 'dev1', devPass);
            await must(srv, 'POST', '/projects/team/members', { body: { role_id: 2, member_user: { username: 'dev1' } } });
        });
        const robot = await step('seed: robot$team+puller', async () => (await must(srv, 'POST', '/robots', { body: { name: 'puller', level: 'project', duration: -1, permissions: [{ kind: 'project', namespace: 'team', access: [{ resource: 'repository', action: 'pull' }] }] } })).json);
        const img = await step('seed: dev1 pushes team/app:1.0 with skopeo', async () => {
            const i = await ociLayout(work, '1.0');
            await sh('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', `dev1:${devPass}`, `oci:${i.layout}:1.0`, `docker://${srv.hostport}/team/app:1.0`]);
            return i;
        });
        dig['1.0'] = img.digest;
        await step('seed: team/app:2.0, team/app:old and side/lib:1 pushed through the API', async () => {
            dig['2.0'] = await pushTiny(srv, 'team/app', '2.0', admin);
            dig.old = await pushTiny(srv, 'team/app', 'old', admin);
            await pushTiny(srv, 'side/lib', '1', admin);
            oldSize = (await must(srv, 'GET', '/projects/team/repositories/app/artifacts/old')).json.size;
        });
        for (let i = 1; i <= 2; i++) {
            await step(`the robot pulls team/app:1.0 with skopeo (${i} of 2)`, () => sh('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', '--src-creds', `${robot.name}:${robot.secret}`, `docker://${srv.hostport}/team/app:1.0`, `oci:${path.join(work, `pulled${i}`)}:1.0`]));
        }
        const curlPull = (tag) => sh('curl', ['-sSf', '-o', '/dev/null', '-u', `dev1:${devPass}`, '-A', 'docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.1.0 os/linux arch/amd64', '-H', `Accept: ${OCI}`, `${srv.url}/v2/team/app/manifests/${tag}`]);
        for (let i = 1; i <= 3; i++) await step(`dev1 pulls team/app:1.0 with curl as docker (${i} of 3)`, () => curlPull('1.0'));
        await step('dev1 pulls team/app:2.0 with curl as docker', () => curlPull('2.0'));
        await step('an anonymous pull of the private project is refused and not counted', async () => {
            const r = await apiCall(srv, 'GET', '/v2/team/app/manifests/1.0', { auth: '', headers: { Accept: OCI } });
            if (r.status !== 401) throw new Error(`status ${r.status}`);
        });

        const b = await browser();
        const shots = [];
        for (const [vw, scheme] of [[1280, 'light'], [1280, 'dark'], [360, 'light'], [360, 'dark']]) {
            const tag = `${vw}-${scheme}`;
            const page = await newPage(b, srv, { name: tag, colorScheme: scheme, viewport: { width: vw, height: vw === 360 ? 740 : 900 } });
            await step(`${tag}: admin logs in`, () => login(page, 'admin', srv.adminPass));
            const full = vw === 1280 && scheme === 'light'; // the detailed checks, once
            await step(`${tag}: the project's Pulls tab renders`, async () => {
                await goto(page, '#/projects/team/pulls');
                await page.waitForSelector('#project-pulls-card .chart canvas', { timeout: 10000 });
            });
            if (full) {
                eq('chart total: 6 pulls in 7 days', (await page.textContent('#project-pulls-total')).trim(), '6 pulls');
                eq('split by tag (hidden table)', sorted(await chartTotals(page, '#project-pulls-card')), sorted({ '1.0': 5, '2.0': 1 }));
                const desc = await page.evaluate(() => {
                    const c = document.querySelector('#project-pulls-card .chart');
                    return `${c.getAttribute('role')} ${document.getElementById(c.getAttribute('aria-describedby')).textContent}`;
                });
                check('the chart is an image described by its totals', desc.startsWith('img ') && desc.includes('1.0: 5') && desc.includes('2.0: 1'), desc);
                check('the numbers are visually hidden until asked for', await page.evaluate(() => document.querySelector('#project-pulls-card .chart-data').classList.contains('sr-only')));
                await step('choose split by user or robot', () => setSplit(page, 'project-pulls', 'user'));
                eq('split by user or robot (hidden table)', sorted(await chartTotals(page, '#project-pulls-card')), sorted({ dev1: 4, 'robot$team+puller (robot)': 2 }));
                await step('choose split by client', () => setSplit(page, 'project-pulls', 'client'));
                eq('split by client family (hidden table)', sorted(await chartTotals(page, '#project-pulls-card')), sorted({ docker: 4, podman: 2 }));
                await step('choose split by artifact', () => setSplit(page, 'project-pulls', 'artifact'));
                eq('split by artifact (hidden table)', sorted(await chartTotals(page, '#project-pulls-card')), sorted({ [dig['1.0'].slice(0, 19)]: 5, [dig['2.0'].slice(0, 19)]: 1 }));
                await step('show the numbers', async () => {
                    await page.click('#project-pulls-card .chart-toggle');
                    await page.waitForSelector('#project-pulls-card .chart-data:not(.sr-only)');
                });
                await step('window 24 hours, split by tag', async () => {
                    await page.selectOption('#project-pulls-window', '1');
                    await setSplit(page, 'project-pulls', 'tag');
                });
                eq('the 24-hour window holds the 6 pulls', (await page.textContent('#project-pulls-total')).trim(), '6 pulls');
                eq('top repositories: team/app with 6', await page.locator('#project-top-repos tbody tr').evaluateAll((rs) => rs.map((r) => `${r.dataset.key}=${r.querySelector('.pulls').textContent}`).join(',')), 'team/app=6');
                eq('top tags: 1.0 with 5, 2.0 with 1', await page.locator('#project-top-tags tbody tr').evaluateAll((rs) => rs.map((r) => `${r.dataset.key}=${r.querySelector('.pulls').textContent}`).join(',')), 'team/app:1.0=5,team/app:2.0=1');
                eq('stale: only app:old, never pulled', await page.locator('#project-stale tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.key).join(',')), `team/app@${dig.old}`);
                eq('stale: its pulls read 0', (await page.textContent('#project-stale tbody tr td.pulls')).trim(), '0');
                eq('stale: the total size is the never-pulled artifact\'s', await page.getAttribute('#project-stale-total', 'data-bytes'), String(oldSize));
                check('stale: the total is written out', (await page.textContent('#project-stale-total')).startsWith('1 artifact not pulled for 30 days, '), await page.textContent('#project-stale-total'));
                await step('stale for 7 days', async () => {
                    await page.selectOption('#project-stale-days', '7');
                    await page.waitForFunction(() => document.getElementById('project-stale-total').textContent.includes('for 7 days'));
                });
            }
            const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
            check(`${tag}: the Pulls tab fits without sideways scrolling`, widths[0] <= widths[1], `page ${widths[0]} px wide in a ${widths[1]} px window`);
            shots.push(await shot(page, `pulls-project-${scheme}`));
            if (full || vw === 360) await axeCheck(page, `project pulls ${tag}`);

            await step(`${tag}: the projects list shows the 7-day pulls`, () => goto(page, '#/projects'));
            eq(`${tag}: team's Pulls (7 days) cell`, (await page.textContent('tr[data-key="team"] td.pulls-7d')).trim(), '6');
            eq(`${tag}: side's Pulls (7 days) cell`, (await page.textContent('tr[data-key="side"] td.pulls-7d')).trim(), '0');
            shots.push(await shot(page, `pulls-projects-${scheme}`));

            if (full) {
                await step('the repositories list sorts by last pull', async () => {
                    await goto(page, '#/projects/team/repositories');
                    await page.click('th button.sort:text("Last pull")');
                    await page.waitForFunction(() => document.querySelector('th[aria-sort="ascending"] button')?.textContent === 'Last pull');
                });
                check('the repository row shows its last pull', (await page.textContent('tr[data-key="team/app"] td.last-pull')).trim() !== 'never');
            }

            await step(`${tag}: the repository's chart and an artifact's`, async () => {
                await goto(page, '#/projects/team/repositories/app');
                await page.waitForSelector('#repo-pulls-card .chart canvas', { timeout: 10000 });
                await page.click(`tr[data-key="${dig['1.0']}"] button.history`);
                await page.waitForSelector('#artifact-pulls-card .chart canvas', { timeout: 10000 });
            });
            if (full) {
                eq('repository chart split by tag', sorted(await chartTotals(page, '#repo-pulls-card')), sorted({ '1.0': 5, '2.0': 1 }));
                eq('artifact chart (1.0) split by tag', sorted(await chartTotals(page, '#artifact-pulls-card')), sorted({ '1.0': 5 }));
                await step('choose the artifact chart\'s split by user', () => setSplit(page, 'artifact-pulls', 'user'));
                eq('artifact chart split by user', sorted(await chartTotals(page, '#artifact-pulls-card')), sorted({ dev1: 3, 'robot$team+puller (robot)': 2 }));
            }
            const w2 = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
            check(`${tag}: the repository page fits`, w2[0] <= w2[1], `page ${w2[0]} px wide in a ${w2[1]} px window`);
            shots.push(await shot(page, `pulls-repository-${scheme}`));

            await step(`${tag}: the system pull report`, async () => {
                await goto(page, '#/admin/pulls');
                await page.waitForSelector('#system-pulls-card .chart canvas', { timeout: 10000 });
            });
            if (full) {
                eq('system chart split by repository', sorted(await chartTotals(page, '#system-pulls-card')), sorted({ 'team/app': 6 }));
                eq('system top repositories', await page.locator('#system-top-repos tbody tr').evaluateAll((rs) => rs.map((r) => `${r.dataset.key}=${r.querySelector('.pulls').textContent}`).join(',')), 'team/app=6');
                eq('system stale: team/app:old and side/lib:1', await page.locator('#system-stale tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.key.split('@')[0]).sort().join(',')), 'side/lib,team/app');
            }
            const w3 = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
            check(`${tag}: the system report fits`, w3[0] <= w3[1], `page ${w3[0]} px wide in a ${w3[1]} px window`);
            shots.push(await shot(page, `pulls-admin-${scheme}`));
            if (full || vw === 360) await axeCheck(page, `system pulls ${tag}`);
            await page.context().close();
        }
        diag(`screenshots: ${shots.map((f) => path.basename(f)).join(' ')}`);

        // a member sees their projects' reports only
        const mp = await newPage(b, srv, { name: 'dev1' });
        await step('dev1 logs in', () => login(mp, 'dev1', devPass));
        eq('dev1 lists team only', await mp.locator('tbody tr[data-key]').evaluateAll((rs) => rs.map((r) => r.dataset.key).join(',')), 'team');
        eq('dev1 sees team\'s 7-day pulls', (await mp.textContent('tr[data-key="team"] td.pulls-7d')).trim(), '6');
        check('dev1 has no Administration link', (await mp.locator('#nav-admin').count()) === 0);
        await step('dev1 opens team\'s pull report', async () => {
            await goto(mp, '#/projects/team/pulls');
            await mp.waitForSelector('#project-pulls-card .chart canvas', { timeout: 10000 });
        });
        eq('dev1 reads team\'s total', (await mp.textContent('#project-pulls-total')).trim(), '6 pulls');
        await step('dev1 opening the system report is told it is for system administrators', () => goto(mp, '#/admin/pulls'));
        eq('the page refuses', (await mp.textContent('main .panel p')).trim(), 'Only system administrators may see this page.');
        check('and shows no chart', (await mp.locator('#system-pulls-card').count()) === 0);
        mp.expectConsole(/status of 403/);
        await step('dev1 opening side\'s pull report gets the refusal', () => goto(mp, '#/projects/side/pulls'));
        check('side\'s report is not shown', (await mp.locator('#project-pulls-card').count()) === 0 && (await mp.textContent('main')).includes('Something went wrong'));
        for (const p of ['/pulls/top', '/pulls/timeseries', '/pulls/stale']) {
            eq(`the API refuses dev1 ${p}`, (await apiCall(srv, 'GET', p, { auth: `dev1:${devPass}` })).status, 403);
        }
        eq('the API refuses dev1 side\'s time series', (await apiCall(srv, 'GET', '/projects/side/pulls/timeseries', { auth: `dev1:${devPass}` })).status, 403);
        await mp.context().close();
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
});
