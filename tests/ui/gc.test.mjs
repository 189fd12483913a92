// gc.test.mjs - Administration -> Clean up in the browser: a system admin starts a dry run, the
// history refreshes by itself until the run shows Success (dry run: Yes), its log link opens the
// log; a real run asks for a confirmation first and then succeeds too; everything is reachable
// with the keyboard.
import { run, startServer, browser, newPage, login, goto, step, check, eq, pushTiny, until, shot } from './lib.mjs';

run(async () => {
    const srv = await startServer({ conf: 'gc_window_s = 0\n' });
    await step('seed: an image', () => pushTiny(srv, 'library/app', 'v1', `admin:${srv.adminPass}`));
    const b = await browser();
    const page = await newPage(b, srv, { name: 'gc' });
    await step('log in as admin', () => login(page, 'admin', srv.adminPass));
    await step('open Administration -> Clean up', () => goto(page, '#/admin/gc'));
    eq('the history starts empty', await page.locator('tr[data-key]').count(), 0);

    await step('start a dry run with the keyboard', async () => {
        await page.locator('#gc-dry-run').focus();
        await page.keyboard.press('Enter');
    });
    await step('the history shows the dry run succeeding (refreshing by itself)', () =>
        until('dry run Success in the table', async () => {
            const row = page.locator('tr[data-key="1"]');
            if (await row.count() !== 1) return false;
            const text = await row.textContent();
            return text.includes('Success') && text.includes('Yes');
        }));
    await shot(page, 'admin-gc-dry-run');
    const href = await page.locator('tr[data-key="1"] a.gc-log').getAttribute('href');
    eq('the log link names the run', href, '/api/v2.0/system/gc/1/log');
    const log = await page.evaluate(async (u) => (await window.fetch(u, { credentials: 'same-origin' })).text(), href);
    check('the dry run log says nothing is removed', log.includes('dry run: nothing is removed') && log.includes('result: success'), log);

    await step('a real run asks for a confirmation', async () => {
        await page.locator('#gc-run').click();
        await page.getByRole('dialog', { name: 'Run garbage collection?' }).waitFor();
    });
    await step('confirm it', () => page.getByRole('dialog').getByRole('button', { name: 'Run garbage collection' }).click());
    await step('the real run succeeds in the history', () =>
        until('run 2 Success', async () => {
            const row = page.locator('tr[data-key="2"]');
            return await row.count() === 1 && (await row.textContent()).includes('Success') && (await row.textContent()).includes('No');
        }));
    eq('newest first', await page.locator('tr[data-key]').first().getAttribute('data-key'), '2');
});
