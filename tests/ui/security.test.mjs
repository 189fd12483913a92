// security.test.mjs - user data is shown as text (markup in a user's full name, a robot's
// description and a repository name's allowed characters); a change without the CSRF token is
// refused; logout ends the session (the old cookie gets 401); an ended session sends the page
// back to the login page with a message; every page goes out with the strict CSP.
import { run, startServer, browser, newPage, login, goto, ready, step, check, eq, must, createUser, password, pushTiny, apiCall, until } from './lib.mjs';

const NAME_MARKUP = '<img src=x onerror="window.__pwned=1"><b>Mallory</b>';
const DESC_MARKUP = '<script>window.__pwned=2</script><i>robot</i> & "quotes"';
const REPO = 'a.b_c-d/e__f--g';

run(async () => {
    const srv = await startServer();
    const pw = password();
    await step('seed: mallory with markup in her full name, a robot with markup in its description, an odd repository name', async () => {
        await createUser(srv, 'mallory', pw, { realname: NAME_MARKUP });
        await must(srv, 'POST', '/projects', { body: { project_name: 'sec', metadata: { public: 'false' } } });
        await must(srv, 'POST', '/projects/sec/members', { body: { role_id: 1, member_user: { username: 'mallory' } } });
        await must(srv, 'POST', '/robots', { body: { name: 'bot', description: DESC_MARKUP, level: 'project', duration: 7, permissions: [{ kind: 'project', namespace: 'sec', access: [{ resource: 'repository', action: 'pull' }] }] } });
        await pushTiny(srv, `sec/${REPO}`, 'v1', `admin:${srv.adminPass}`);
    });
    const b = await browser();
    const page = await newPage(b, srv, { name: 'admin' });
    await step('admin logs in', () => login(page, 'admin', srv.adminPass));

    const resp = await page.request.get('/');
    eq('the page goes out with CSP default-src \'self\'', resp.headers()['content-security-policy'], "default-src 'self'");

    await step('users page', () => goto(page, '#/admin/users'));
    eq('the full name shows as text', await page.locator('tr[data-key="mallory"] .realname').textContent(), NAME_MARKUP);
    eq('no element was made from it', await page.locator('tr[data-key="mallory"] .realname *').count(), 0);
    await step('robots page', () => goto(page, '#/projects/sec/robots'));
    const row = page.locator('tr[data-key="robot$sec+bot"]');
    check('the description shows as text', (await row.textContent()).includes(DESC_MARKUP));
    eq('no element was made from it', await row.locator('script, i').count(), 0);
    await step('repositories page', () => goto(page, '#/projects/sec/repositories'));
    eq('the repository name shows as it is', await page.locator(`tr[data-key="sec/${REPO}"] a`).textContent(), `sec/${REPO}`);
    await step('open the repository with / in its name', async () => {
        await page.click(`tr[data-key="sec/${REPO}"] a`);
        await ready(page);
        await page.waitForSelector('li[data-tag="v1"]');
    });
    eq('its heading is the name', await page.locator('main h1').textContent(), REPO);
    eq('no script ran', await page.evaluate(() => window.__pwned === undefined), true);

    // CSRF: the session cookie alone does not make a change
    page.expectConsole(/status of 403/);
    page.expectConsole(/status of 403/);
    const csrf = await page.evaluate(async () => {
        const body = JSON.stringify({ project_name: 'csrf1', metadata: { public: 'true' } });
        const a = await fetch('/api/v2.0/projects', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body });
        const b2 = await fetch('/api/v2.0/projects', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-Harbor-CSRF-Token': '0'.repeat(64) }, body });
        return [a.status, await a.text(), b2.status];
    });
    eq('a change without the CSRF token is refused (403)', csrf[0], 403);
    check('the refusal says why', csrf[1].includes('CSRF'), csrf[1]);
    eq('a change with a wrong CSRF token is refused (403)', csrf[2], 403);
    eq('no project was made', (await apiCall(srv, 'GET', '/projects/csrf1')).status, 404);

    // logout ends the session
    const sid = (await page.context().cookies()).find((c) => c.name === 'sid');
    check('the session cookie is HttpOnly and SameSite=Strict', sid && sid.httpOnly && sid.sameSite === 'Strict');
    eq('the old cookie works before logout', (await apiCall(srv, 'GET', '/users/current', { auth: '', headers: { Cookie: `sid=${sid.value}` } })).status, 200);
    await step('log out from the user menu', async () => {
        await page.click('.usermenu summary');
        await page.click('#logout');
        await page.waitForSelector('#login-message');
    });
    eq('the login page says so', await page.locator('#login-message').textContent(), 'You have logged out.');
    eq('the old cookie gets 401 after logout', (await apiCall(srv, 'GET', '/users/current', { auth: '', headers: { Cookie: `sid=${sid.value}` } })).status, 401);

    // a session that ends elsewhere (the admin resets mallory's password) sends her to the login page
    const m = await newPage(b, srv, { name: 'mallory' });
    await step('mallory logs in', () => login(m, 'mallory', pw));
    await step('the admin resets mallory\'s password through the API', async () => {
        const u = await must(srv, 'GET', '/users?q=username%3Dmallory');
        await must(srv, 'PUT', `/users/${u.json[0].user_id}/password`, { body: { new_password: password() } });
    });
    m.expectConsole(/status of 40[13]/); // the private project, asked without a session
    await step('mallory\'s next page load returns to the login page with a message', async () => {
        await m.evaluate(() => { location.hash = '#/projects/sec/members'; });
        await m.waitForSelector('#login-message', { timeout: 10000 });
    });
    eq('the message says the session expired', await m.locator('#login-message').textContent(), 'Your session has expired. Please log in again.');
    check('the login form is back', await m.getByLabel('User name').isVisible());

    // changing one's own password from the user menu
    const oldPw = password();
    const newPw = password();
    await createUser(srv, 'carol', oldPw);
    const c = await newPage(b, srv, { name: 'carol' });
    await step('carol logs in and opens Change password from the user menu', async () => {
        await login(c, 'carol', oldPw);
        await c.click('.usermenu summary');
        await c.getByRole('link', { name: 'Change password' }).click();
        await ready(c, '#/account');
    });
    c.expectConsole(/status of 4\d\d/); // the wrong current password, refused
    await step('a wrong current password is refused on the page', async () => {
        await c.getByLabel('Current password').fill('Wrong-pass-123');
        await c.getByLabel('New password', { exact: true }).fill(newPw);
        await c.getByLabel('New password again').fill(newPw);
        await c.getByRole('button', { name: 'Change password' }).click();
        await c.locator('main .error:not([hidden])').waitFor();
    });
    await step('the right one changes it and returns to the login page', async () => {
        await c.getByLabel('Current password').fill(oldPw);
        await c.getByLabel('New password', { exact: true }).fill(newPw);
        await c.getByLabel('New password again').fill(newPw);
        await c.getByRole('button', { name: 'Change password' }).click();
        await c.waitForSelector('#login-message');
    });
    eq('the login page says the password changed', await c.locator('#login-message').textContent(), 'Password changed. Log in with the new password.');
    await step('carol logs in with the new password', () => login(c, 'carol', newPw));
    eq('the old password no longer works', (await apiCall(srv, 'GET', '/users/current', { auth: `carol:${oldPw}` })).status, 401);
});
