// walkthrough.test.mjs - the walkthrough Berth is built for, in the browser: the admin logs in,
// creates a user and a private project, adds the user as developer and a pull robot (copying its
// secret), the user pushes an image with skopeo, the robot pulls it three times with skopeo, and
// after a reload the repository, the artifact, its tag and the chart show 3 pulls.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, startServer, browser, newPage, login, goto, ready, step, check, eq, until, apiCall, password, ociLayout, sh, clipboard, shot } from './lib.mjs';

run(async () => {
    const srv = await startServer({ conf: 'pull_flush_s = 1\n' });
    const b = await browser();
    const page = await newPage(b, srv, { name: 'walkthrough' });
    const devPass = password();
    const work = mkdtempSync(path.join(tmpdir(), 'berth-ui-walk.'));
    let secret = '';
    let robotName = '';
    try {
        await step('admin logs in', () => login(page, 'admin', srv.adminPass));
        await step('admin creates user dev1 on the Users page', async () => {
            await goto(page, '#/admin/users');
            await page.click('#new-user');
            const d = page.locator('dialog[open]');
            await d.getByLabel('User name').fill('dev1');
            await d.getByLabel('Full name').fill('Dev One');
            await d.getByLabel('Email').fill('dev1@example.test');
            await d.getByLabel('Password', { exact: true }).fill(devPass);
            await d.getByRole('button', { name: 'Create', exact: true }).click();
            await page.waitForSelector('tr[data-key="dev1"]');
        });
        await step('admin creates the private project team', async () => {
            await goto(page, '#/projects');
            await page.click('#new-project');
            const d = page.locator('dialog[open]');
            await d.getByLabel('Project name').fill('team');
            await d.getByRole('button', { name: 'Create', exact: true }).click();
            await page.waitForSelector('tr[data-key="team"]');
        });
        eq('the project is listed as private', (await page.locator('tr[data-key="team"] .badge').first().textContent()).trim(), 'private');
        await step('admin adds dev1 as developer', async () => {
            await goto(page, '#/projects/team/members');
            await page.click('#add-member');
            const d = page.locator('dialog[open]');
            await d.getByLabel('User name').fill('dev1');
            await d.getByLabel('Role').selectOption({ label: 'Developer' });
            await d.getByRole('button', { name: 'Add', exact: true }).click();
            await page.waitForSelector('tr[data-key="dev1"]');
        });
        eq('dev1 shows as Developer', await page.locator('tr[data-key="dev1"] select').evaluate((s) => s.options[s.selectedIndex].text), 'Developer');
        await step('admin creates a pull robot and copies its secret', async () => {
            await goto(page, '#/projects/team/robots');
            await page.click('#new-robot');
            const d = page.locator('dialog[open]');
            await d.getByLabel('Name', { exact: true }).fill('puller');
            await d.getByLabel('Description').fill('cluster pulls');
            check('pull is ticked by default', await d.getByLabel('pull').isChecked());
            await d.getByRole('button', { name: 'Create', exact: true }).click();
            await page.waitForSelector('#robot-secret');
            robotName = await page.inputValue('#robot-name');
            const shown = await page.inputValue('#robot-secret');
            await page.click('#copy-secret');
            secret = await until('the secret on the clipboard', async () => {
                const c = await clipboard(page);
                return c === shown ? c : '';
            }, 5000);
        });
        await shot(page, 'walkthrough-robot-secret');
        eq('the robot is named robot$team+puller', robotName, 'robot$team+puller');
        check('a secret was copied', secret.length >= 8);
        const kubectl = await page.locator('dialog[open] .codeline code').textContent();
        eq('the kubectl line is ready to paste', kubectl, `kubectl create secret docker-registry team-puller --docker-server=${srv.hostport} --docker-username='robot$team+puller' --docker-password='${secret}'`);
        await page.keyboard.press('Escape');

        const img = await step('build a small OCI image', () => ociLayout(work, '1.0'));
        await step('dev1 pushes team/app:1.0 with skopeo', () => sh('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', `dev1:${devPass}`, `oci:${img.layout}:1.0`, `docker://${srv.hostport}/team/app:1.0`]));
        for (let i = 1; i <= 3; i++) {
            await step(`the robot pulls team/app:1.0 with skopeo (${i} of 3)`, () => sh('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', '--src-creds', `${robotName}:${secret}`, `docker://${srv.hostport}/team/app:1.0`, `oci:${path.join(work, `pulled${i}`)}:1.0`]));
        }
        await step('the API counts 3 pulls (flushed within the deadline)', () => until('pull_count 3', async () => {
            const r = await apiCall(srv, 'GET', '/projects/team/repositories/app');
            return r.json && r.json.pull_count === 3;
        }, 20000));

        await step('reload the repositories page', async () => {
            await page.reload();
            await ready(page);
            await goto(page, '#/projects/team/repositories');
        });
        eq('the repository row shows 3 pulls', (await page.locator('tr[data-key="team/app"] td.pulls').textContent()).trim(), '3');
        await shot(page, 'walkthrough-repositories');
        await step('open the repository', async () => {
            await page.click('tr[data-key="team/app"] a');
            await ready(page, '#/projects/team/repositories/app');
        });
        eq('the artifact row shows 3 pulls', (await page.locator(`tr[data-key="${img.digest}"] td.pulls`).textContent()).trim(), '3');
        eq('the tag shows 3 pulls', (await page.locator('li[data-tag="1.0"] .tagpulls').textContent()).trim(), '3 pulls');
        eq('the repository facts show 3 pulls', (await page.locator('#repo-pulls').textContent()).trim(), '3');
        await step('copy the pull command by tag', async () => {
            await page.click('li[data-tag="1.0"] .copy-tag');
            await until('clipboard', async () => (await clipboard(page)) === `docker pull ${srv.hostport}/team/app:1.0`, 5000);
        });
        await step('copy the pull command by digest', async () => {
            await page.click(`tr[data-key="${img.digest}"] .copy-digest`);
            await until('clipboard', async () => (await clipboard(page)) === `docker pull ${srv.hostport}/team/app@${img.digest}`, 5000);
        });
        await shot(page, 'walkthrough-artifacts');
        await step('the summary chart holds the three pulls', async () => {
            await goto(page, '#/projects/team/summary');
            await page.waitForSelector('.chart canvas');
        });
        eq('chart total', (await page.locator('#chart-total').textContent()).trim(), '3 pulls across the repositories shown');
        eq('chart data row for app', await page.locator('.chart-data tbody tr').first().evaluate((tr) => [...tr.children].map((c) => c.textContent).join('=')), 'app=3');
        await shot(page, 'walkthrough-summary');
        page.expectConsole(/status of 412/); // the refusal the next step provokes
        await step('deleting the non-empty project is refused with the API\'s reason', async () => {
            await page.click('#delete-project');
            const d = page.locator('dialog[open]');
            await d.getByRole('button', { name: 'Delete team' }).click();
            await d.locator('.error:not([hidden])').waitFor();
        });
        eq('the reason is shown in the dialog', (await page.locator('dialog[open] .error').textContent()).trim(), 'project team is not empty: delete its repositories first');
        await page.keyboard.press('Escape');
        eq('the project is still there', (await apiCall(srv, 'GET', '/projects/team')).status, 200);
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
});
