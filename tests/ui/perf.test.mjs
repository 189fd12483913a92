// perf.test.mjs - a project page with 500 repositories (its repositories, summary and pull
// report tabs): how long until it is interactive, on loopback against the test binary. Timed from the start of navigation (a fresh page load: HTML,
// modules, session, API calls, render) and for a move between pages inside the app, to the
// performance mark the app sets when a page is rendered with its handlers bound. Printed as
// "# perf: ..." lines; checked against UI_PERF_BUDGET_MS (default 200 ms for the in-app move,
// 4x that for the cold load, which includes module loading in a fresh browser context).
import { createHash } from 'node:crypto';
import { run, startServer, browser, newPage, login, goto, ready, step, check, diag, must, apiCall } from './lib.mjs';

const N = Number(process.env.UI_PERF_REPOS || 500);
const BUDGET = Number(process.env.UI_PERF_BUDGET_MS || 200);

async function pool(n, width, fn) {
    let next = 0;
    const workers = Array.from({ length: width }, async () => {
        while (next < n) {
            const i = next++;
            await fn(i);
        }
    });
    await Promise.all(workers);
}

run(async () => {
    const srv = await startServer();
    const auth = `admin:${srv.adminPass}`;
    const empty = Buffer.from('{}');
    const d = `sha256:${createHash('sha256').update(empty).digest('hex')}`;
    const t0 = Date.now();
    await step(`create ${N} repositories through the registry API`, async () => {
        await must(srv, 'POST', '/projects', { body: { project_name: 'big', metadata: { public: 'false' } } });
        await must(srv, 'POST', `/v2/big/r000/blobs/uploads/?digest=${d}`, { auth, body: empty, raw: true, headers: { 'Content-Type': 'application/octet-stream' } }, [201]);
        await pool(N, 8, async (i) => {
            const repo = `big/r${String(i).padStart(3, '0')}`;
            if (i > 0) await must(srv, 'POST', `/v2/${repo}/blobs/uploads/?mount=${d}&from=big/r000`, { auth }, [201]);
            const m = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: d, size: 2 }, layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: d, size: 2 }], annotations: { n: String(i) } });
            await must(srv, 'PUT', `/v2/${repo}/manifests/v1`, { auth, body: m, raw: true, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } }, [201]);
        });
    });
    diag(`perf: ${N} repositories created in ${Date.now() - t0} ms`);
    const count = await apiCall(srv, 'GET', '/projects/big/repositories?page_size=1');
    check(`the API counts ${N} repositories`, count.headers.get('x-total-count') === String(N), count.headers.get('x-total-count'));

    const b = await browser();
    const page = await newPage(b, srv, { name: 'perf' });
    await step('log in', () => login(page, 'admin', srv.adminPass));
    const readyAt = (hash) => page.evaluate((hs) => {
        const m = performance.getEntriesByName(`berth-ready ${hs}`, 'mark').pop();
        return m ? m.startTime : null;
    }, hash);

    const results = {};
    for (const tab of ['repositories', 'summary', 'pulls']) {
        const hash = `#/projects/big/${tab}`;
        // cold: a fresh load of the page's address (session cookie kept)
        const cold = [];
        for (let i = 0; i < 3; i++) {
            await page.goto('about:blank'); // else a hash-only change stays in the same document
            await page.goto(`/${hash}`);
            await ready(page, hash);
            cold.push(await readyAt(hash));
        }
        // warm: a move inside the app (from the projects list)
        const warm = [];
        for (let i = 0; i < 5; i++) {
            await goto(page, '#/projects');
            const start = await page.evaluate(() => performance.now());
            await goto(page, hash);
            const end = await readyAt(hash);
            warm.push(end - start);
        }
        const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
        results[tab] = { cold: med(cold), warm: med(warm) };
        diag(`perf: project ${tab} page, ${N} repositories: interactive after ${med(cold).toFixed(0)} ms from a fresh load (median of 3), ${med(warm).toFixed(0)} ms moving inside the app (median of 5)`);
        check(`${tab} page lists ${N} repositories`, tab !== 'repositories' || (await page.locator('.pager-status').textContent()).includes(`${N} in all`));
    }
    const tabs = Object.values(results);
    check(`project page interactive within ${BUDGET} ms moving inside the app`, tabs.every((r) => r.warm <= BUDGET), JSON.stringify(results));
    check(`project page interactive within ${4 * BUDGET} ms from a fresh load`, tabs.every((r) => r.cold <= 4 * BUDGET), JSON.stringify(results));
    console.log(`perf: project page with ${N} repositories interactive in ${results.repositories.cold.toFixed(0)} ms (fresh load, repositories tab), ${results.summary.cold.toFixed(0)} ms (fresh load, summary with chart), ${results.pulls.cold.toFixed(0)} ms (fresh load, pull report), ${results.repositories.warm.toFixed(0)} / ${results.summary.warm.toFixed(0)} / ${results.pulls.warm.toFixed(0)} ms (in-app)`);
});
