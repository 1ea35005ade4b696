// Accounts and scoped sync in the browser (issue 5): wardens of two grids each see only their
// grid's cases, their community manager sees both; moving a warden to another grid resets their
// device to the new area and keeps their unsent work (the server refuses what now lies outside
// it, and the device shows it with the reason); an ended session keeps every unsent op until the
// warden signs in again; and a full run's server log holds no resident's phone or ID number and
// no session token.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  CITY, PASSWORD, api, caseIdByTitle, fillCase, launchBrowser, login, sel, serverCase, setGrids, setupCity, signIn,
  signedIn, startServer, waitAttr, waitFor, waitReady, goOffline
} from './harness.mjs';
import { waitSynced } from './badge.mjs';

/** Titles of the cases listed on /cases, once the device is up to date. */
async function listedTitles(page, baseUrl) {
  await page.goto(`${baseUrl}/cases`);
  await waitReady(page);
  await waitSynced(page);
  return page.evaluate((s) => [...document.querySelectorAll(s)].map((el) => el.textContent), sel.caseItem);
}

const has = (titles, title) => titles.some((t) => t.includes(title));

test('scoped sync: each warden sees their grid, the manager both; moving resets, keeping unsent work', async (t) => {
  const server = await startServer(t, { log: 'debug,hyper=info,h2=info,sqlx=info' });
  await setupCity(server);
  const browser = await launchBrowser(t);
  const [a, b, m] = await Promise.all([1, 2, 3].map(async () => (await browser.newContext()).newPage()));
  const ctxA = a.context();
  await signIn(a, server.url, 'wa');
  await signIn(b, server.url, 'wb');
  await signIn(m, server.url, 'cm');

  // A reports in G1, B in G2, from their devices; both reach the server.
  await a.goto(`${server.url}/cases/new`);
  await waitReady(a);
  await fillCase(a, { title: '甲：路灯不亮', description: 'G1', category: 'infrastructure' });
  await b.goto(`${server.url}/cases/new`);
  await waitReady(b);
  await fillCase(b, { title: '乙：垃圾堆放', description: 'G2', category: 'environment' });
  const caseA = await serverCase(server, { title: '甲：路灯不亮' });
  const caseB = await serverCase(server, { title: '乙：垃圾堆放' });
  assert.equal(caseA.fields.grid.value, CITY.g1, 'the case carries the warden\'s grid');
  assert.equal(caseB.fields.grid.value, CITY.g2);

  // The manager of the community sees both …
  await m.goto(`${server.url}/cases`);
  await waitReady(m);
  await caseIdByTitle(m, '甲：路灯不亮');
  await caseIdByTitle(m, '乙：垃圾堆放');
  // … each warden, up to date, only their own.
  const seenByA = await listedTitles(a, server.url);
  assert.ok(has(seenByA, '甲：路灯不亮') && !has(seenByA, '乙：垃圾堆放'), `A sees ${seenByA}`);
  const seenByB = await listedTitles(b, server.url);
  assert.ok(has(seenByB, '乙：垃圾堆放') && !has(seenByB, '甲：路灯不亮'), `B sees ${seenByB}`);

  // A works offline: one case waits in the outbox.
  await goOffline(a);
  await a.goto(`${server.url}/cases/new`);
  await waitReady(a);
  await fillCase(a, { title: '甲：离线上报', description: 'still G1', category: 'safety' });
  await waitAttr(a, sel.badge, 'data-waiting', '1');

  // Meanwhile the admin moves A from G1 to G2.
  await setGrids(server, 'wa', 'warden', [CITY.g2]);

  // Back online: A's device resets to G2 (B's case appears, G1's leaves); the offline case is
  // not lost: G1 is no longer A's, so the server refuses it and the device shows why.
  await ctxA.setOffline(false);
  await a.goto(`${server.url}/cases`);
  await waitReady(a);
  await caseIdByTitle(a, '乙：垃圾堆放');
  await waitAttr(a, sel.badge, 'data-rejected', '1');
  await waitAttr(a, sel.badge, 'data-waiting', '0');
  const after = await a.evaluate((s) => [...document.querySelectorAll(s)].map((el) => el.textContent), sel.caseItem);
  assert.ok(!has(after, '甲：路灯不亮'), `after the move A no longer holds G1's synced case: ${after}`);
  await a.locator(sel.badge).click();
  await waitFor(
    a,
    'the refused op listed with its reason',
    () => [...document.querySelectorAll('[data-testid=rejected-item]')].some((el) => el.textContent.includes('out_of_scope')),
  );

  // The server log of this whole run names no resident's phone or ID number and no token.
  const phone = '13987654321';
  const idNumber = '532901198001011234';
  const token = await login(server.url, 'wb', PASSWORD);
  const pushed = await api(server.url, token, 'POST', '/api/v1/sync/push', {
    protocol: 2,
    actor: '00000000-0000-4000-a000-0000000000b2',
    ops: [{
      id: '00000000-0000-4000-9000-0000000b0001',
      actor: '00000000-0000-4000-a000-0000000000b2',
      hlc: `${String(Date.now()).padStart(15, '0')}-000001`,
      collection: 'cases',
      record: '00000000-0000-4000-8000-0000000b0001',
      body: { kind: 'set', fields: { grid: CITY.g2, title: '住户来电', reporter: 'wb', resident_phone: phone, resident_id_number: idNumber, resident_name: '张三丰' } },
      schema: 1,
    }, {
      // Refused (another grid): a refusal is logged, its content is not.
      id: '00000000-0000-4000-9000-0000000b0002',
      actor: '00000000-0000-4000-a000-0000000000b2',
      hlc: `${String(Date.now()).padStart(15, '0')}-000002`,
      collection: 'cases',
      record: '00000000-0000-4000-8000-0000000b0002',
      body: { kind: 'set', fields: { grid: CITY.g3, title: '越界', reporter: 'wb', resident_phone: phone, resident_id_number: idNumber } },
      schema: 1,
    }],
  });
  assert.ok('seq' in pushed.results[0], JSON.stringify(pushed.results[0]));
  assert.equal(pushed.results[1].rejected.code, 'out_of_scope');
  // The manager's device pulls it (the server answers with it), then the log is read.
  await caseIdByTitle(m, '住户来电');
  const log = server.stderr();
  assert.ok(log.includes('op refused by the rules'), 'refusals are logged');
  for (const secret of [phone, idNumber, '张三丰', token, server.adminToken]) {
    assert.ok(!log.includes(secret), `the server log must not contain ${secret.slice(0, 6)}…`);
  }
});

test('an ended session keeps every unsent op until the warden signs in again', async (t) => {
  const { server, page } = await signedIn(t, 'wa');
  await waitSynced(page);

  // The admin resets the password: every session of wa ends.
  await api(server.url, server.adminToken, 'POST', '/api/v1/admin/users/wa/password', { password: 'a-new-password' });

  // Work goes on locally; the push is refused 401; the app asks to sign in and keeps the op.
  await page.goto(`${server.url}/cases/new`);
  await waitReady(page);
  await fillCase(page, { title: '会话过期后上报', description: '', category: 'other' });
  await waitFor(page, 'the sign-in-again banner', () => document.querySelector('[data-testid=reauth]') !== null);
  await waitAttr(page, sel.badge, 'data-waiting', '1');
  await page.goto(`${server.url}/cases`);
  await waitReady(page);
  await caseIdByTitle(page, '会话过期后上报');

  // Signing in again as the same user sends it.
  await signIn(page, server.url, 'wa', 'a-new-password');
  await serverCase(server, { title: '会话过期后上报' });
  await waitAttr(page, sel.badge, 'data-waiting', '0');
});

test('a shared phone: signing out warns about unsent work and keeps it; the next user never sees it', async (t) => {
  const { server, context, page } = await signedIn(t, 'wb');
  await waitSynced(page);

  // B drafts offline, then signs out: a warning first, and "sign out anyway" keeps the draft.
  await goOffline(page);
  await page.goto(`${server.url}/cases/new`);
  await waitReady(page);
  await fillCase(page, { title: '乙：未上传的草稿', description: '', category: 'other' });
  await waitAttr(page, sel.badge, 'data-waiting', '1');
  await page.locator('[data-testid=logout]').click();
  await waitFor(page, 'the sign-out warning', () => document.querySelector('[data-testid=logout-warning]') !== null);
  await page.locator('[data-testid=logout-confirm]').click();
  await waitFor(page, 'the login form', () => document.querySelector('[data-testid=login-form]') !== null);
  await context.setOffline(false);

  // A signs in on the same browser: their own data, none of B's.
  await signIn(page, server.url, 'wa');
  const seenByA = await listedTitles(page, server.url);
  assert.ok(!has(seenByA, '乙：未上传的草稿'), `A must not see B's draft: ${seenByA}`);
  await waitAttr(page, sel.badge, 'data-waiting', '0');
  await page.locator('[data-testid=logout]').click(); // nothing waits: no warning
  await waitFor(page, 'the login form', () => document.querySelector('[data-testid=login-form]') !== null);

  // B signs in again: the draft is still there and is sent by itself.
  await signIn(page, server.url, 'wb');
  await serverCase(server, { title: '乙：未上传的草稿' });
  await waitAttr(page, sel.badge, 'data-waiting', '0');
});
