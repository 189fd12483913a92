// roles.test.mjs - what each role sees: a guest sees the private project but no delete, member
// or robot controls; a user who is not a member does not see it; a system admin sees
// Administration (and a plain user does not).
import { run, startServer, browser, newPage, login, goto, step, check, eq, must, createUser, password, pushTiny, until, apiCall } from './lib.mjs';

run(async () => {
    const srv = await startServer();
    const pw = password();
    await step('seed: private project vault with an image; guest1, dev1, padmin (project admin), outsider, boss (sysadmin)', async () => {
        await must(srv, 'POST', '/projects', { body: { project_name: 'vault', metadata: { public: 'false' } } });
        for (const u of ['guest1', 'dev1', 'padmin', 'outsider', 'boss']) await createUser(srv, u, pw);
        await must(srv, 'POST', '/projects/vault/members', { body: { role_id: 1, member_user: { username: 'padmin' } } });
        await must(srv, 'POST', '/projects/vault/members', { body: { role_id: 3, member_user: { username: 'guest1' } } });
        await must(srv, 'POST', '/projects/vault/members', { body: { role_id: 2, member_user: { username: 'dev1' } } });
        const users = await must(srv, 'GET', '/users?q=username%3Dboss');
        await must(srv, 'PUT', `/users/${users.json[0].user_id}/sysadmin`, { body: { sysadmin_flag: true } });
        await pushTiny(srv, 'vault/app', 'v1', `admin:${srv.adminPass}`);
        await must(srv, 'POST', '/robots', { body: { name: 'ci', level: 'project', duration: -1, permissions: [{ kind: 'project', namespace: 'vault', access: [{ resource: 'repository', action: 'pull' }] }] } });
    });
    const b = await browser();

    // guest
    const g = await newPage(b, srv, { name: 'guest1' });
    await step('guest1 logs in', () => login(g, 'guest1', pw));
    check('guest1 sees vault in the projects list', await g.locator('tr[data-key="vault"]').count() === 1);
    eq('guest1 gets no New project button', await g.locator('#new-project').count(), 0);
    eq('guest1 gets no delete or public switch in the list', await g.locator('tr[data-key="vault"] button').count(), 0);
    eq('guest1 sees no Administration link', await g.locator('#nav-admin').count(), 0);
    await step('guest1 opens vault', () => goto(g, '#/projects/vault/summary'));
    eq('guest1: no Robot accounts tab', await g.getByRole('link', { name: 'Robot accounts' }).count(), 0);
    eq('guest1: no configuration (public switch, delete project)', await g.locator('#public-switch, #delete-project').count(), 0);
    await step('guest1 opens the repositories', () => goto(g, '#/projects/vault/repositories'));
    check('guest1 sees the repository', await g.locator('tr[data-key="vault/app"]').count() === 1);
    eq('guest1: no delete button on repositories', await g.locator('main button.danger').count(), 0);
    await step('guest1 opens the artifacts', () => goto(g, '#/projects/vault/repositories/app'));
    check('guest1 sees the artifact', await g.locator('li[data-tag="v1"]').count() === 1);
    eq('guest1: no delete button on tags or artifacts', await g.locator('main button.danger').count(), 0);
    check('guest1 still gets the copy buttons', await g.locator('.copy-tag').count() === 1);
    await step('guest1 opens the members', () => goto(g, '#/projects/vault/members'));
    check('guest1 sees the member list', await g.locator('tr[data-key="dev1"]').count() === 1);
    eq('guest1: no member controls (add, role select, remove)', await g.locator('#add-member, main table select, main button.danger').count(), 0);
    await step('guest1 tries the robots page by address', () => goto(g, '#/projects/vault/robots'));
    eq('guest1: the robots address falls back to the summary, no robot controls', await g.locator('#new-robot').count(), 0);
    await step('guest1 tries Administration by address', () => goto(g, '#/admin/users'));
    check('guest1 is told Administration is for system admins', (await g.locator('main').textContent()).includes('Only system administrators'));
    eq('guest1: no user controls there', await g.locator('#new-user').count(), 0);

    // developer: sees the repositories, still no member controls
    const d = await newPage(b, srv, { name: 'dev1' });
    await step('dev1 logs in and opens vault members', async () => {
        await login(d, 'dev1', pw);
        await goto(d, '#/projects/vault/members');
    });
    eq('dev1: no member controls', await d.locator('#add-member, main table select').count(), 0);

    // project admin (not a system admin): manages members and robots, no Administration
    const pa = await newPage(b, srv, { name: 'padmin' });
    await step('padmin logs in and opens vault members', async () => {
        await login(pa, 'padmin', pw);
        await goto(pa, '#/projects/vault/members');
    });
    eq('padmin sees no Administration link', await pa.locator('#nav-admin').count(), 0);
    check('padmin gets member controls', await pa.locator('#add-member').count() === 1 && await pa.locator('tr[data-key="dev1"] select').count() === 1);
    await step('padmin makes dev1 a maintainer', async () => {
        await pa.locator('tr[data-key="dev1"] select').selectOption({ label: 'Maintainer' });
        await until('role saved', async () => (await apiCall(srv, 'GET', '/projects/vault/members?entityname=dev1')).json.some((m) => m.entity_name === 'dev1' && m.role_id === 4));
    });
    await step('padmin opens vault robots', () => goto(pa, '#/projects/vault/robots'));
    check('padmin gets robot controls', await pa.locator('#new-robot').count() === 1 && await pa.locator('tr[data-key="robot$vault+ci"]').count() === 1);
    await step('padmin opens vault repositories', () => goto(pa, '#/projects/vault/repositories'));
    check('padmin gets the delete button', await pa.locator('tr[data-key="vault/app"] button.danger').count() === 1);

    // outsider
    const o = await newPage(b, srv, { name: 'outsider' });
    await step('outsider logs in', () => login(o, 'outsider', pw));
    eq('outsider does not see vault', await o.locator('tr[data-key="vault"]').count(), 0);
    o.expectConsole(/status of 40[34]/);
    await step('outsider opens vault by address', () => goto(o, '#/projects/vault'));
    check('outsider is refused', /not found|forbidden|denied/i.test(await o.locator('main').textContent()), await o.locator('main').textContent());

    // system admin
    const s = await newPage(b, srv, { name: 'boss' });
    await step('boss (system admin) logs in', () => login(s, 'boss', pw));
    check('boss sees Administration', await s.locator('#nav-admin').count() === 1);
    check('boss sees vault although not a member', await s.locator('tr[data-key="vault"]').count() === 1);
    await step('boss opens Administration', async () => {
        await s.click('#nav-admin');
        await s.waitForSelector('#new-user');
    });
    check('boss sees the users', await s.locator('tr[data-key="guest1"]').count() === 1);
    await step('boss opens vault robots', () => goto(s, '#/projects/vault/robots'));
    check('boss gets robot controls', await s.locator('#new-robot').count() === 1 && await s.locator('tr[data-key="robot$vault+ci"]').count() === 1);
});
