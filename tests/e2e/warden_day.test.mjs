// Issue 6 acceptance: a demo warden's day offline on a 390×844 screen. Signed in, offline, they
// log 20 visits and 5 cases with photos and move 2 cases to 已办结; two reloads and a browser
// restart later, still offline, everything is there and the badge counts what waits. Back
// online everything reaches the server with no tap, the badge says up to date, and their
// community manager sees the cases and closes one (销号), which the warden then sees.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO_PASSWORD, allUsers, api, ensureControlled, eventually, fieldValues, launchBrowser, launchPersistent, login, picture,
  pullAll, sel, signIn, startServer, tempDir, waitAttr, waitFor, waitReady, waitText,
} from './harness.mjs';
import { waitSynced } from './badge.mjs';

const VISITS = 20;
const CASES = 5;
const PHONE = { viewport: { width: 390, height: 844 } };

async function counts(page, url) {
  await page.goto(`${url}/visits`);
  await waitReady(page);
  await waitFor(page, `${VISITS} visits`, (n) => document.querySelectorAll('[data-testid=visit-item]').length === n, VISITS);
  await page.goto(`${url}/cases`);
  await waitReady(page);
  await waitAttr(page, '[data-testid=cases-count]', 'data-shown', String(CASES));
}

test('a demo warden works a day offline; everything syncs by itself; the community closes one', async (t) => {
  const server = await startServer(t, { demo: true });
  const warden = 'w0001';
  // The community manager of w0001's community, from the admin API.
  const token = await login(server.url, warden, DEMO_PASSWORD);
  const me = await api(server.url, token, 'GET', '/api/v1/auth/me');
  const users = await allUsers(server, { role: 'community_manager' });
  const manager = users.find((u) => u.role === 'community_manager' && u.communities.includes(me.communities[0])).username;

  const profile = await tempDir(t, 'profile');
  let context = await launchPersistent(profile, PHONE);
  t.after(() => context.close().catch(() => {}));
  let page = context.pages()[0] ?? (await context.newPage());
  await signIn(page, server.url, warden, DEMO_PASSWORD);
  await ensureControlled(page);
  await waitSynced(page);
  const photo = await picture(page, 2400, 1800, 3);

  await context.setOffline(true);
  for (let i = 1; i <= VISITS; i++) {
    await page.goto(`${server.url}/visits/new`);
    await waitReady(page);
    await page.locator('[data-testid=visit-form] [name=kind]').selectOption(i % 3 ? 'household_visit' : 'patrol');
    if (i % 2) {
      // Every other visit is to a compound of the grid (the demo city has them on the device).
      await page.locator('[data-testid=visit-form] [name=compound] option').nth(1).waitFor({ state: 'attached' });
      await page.locator('[data-testid=visit-form] [name=compound]').selectOption({ index: 1 });
    }
    await page.locator('[data-testid=visit-form] [name=notes]').fill(`第 ${i} 次走访：情况正常`);
    await page.locator(sel.save).click();
    await waitFor(page, `visit ${i} listed`, (n) => document.querySelector('[data-testid=visits-count]')?.dataset.total === String(n), i);
  }
  const caseIds = [];
  for (let i = 1; i <= CASES; i++) {
    await page.goto(`${server.url}/cases/new`);
    await waitReady(page);
    await page.locator('form [name=title]').fill(`离线事件 ${i}`);
    await page.locator('form [name=category]').selectOption('environment');
    await page.locator('form input[name=photos]').setInputFiles({ name: `p${i}.png`, mimeType: 'image/png', buffer: photo });
    await waitFor(page, 'the photo in the form', () => document.querySelectorAll('form [data-testid=photo]').length === 1);
    await page.locator(sel.save).click();
    await waitText(page, sel.caseTitle, `离线事件 ${i}`);
    caseIds.push(new URL(page.url()).pathname.split('/').pop());
  }
  // Two cases handled on the spot and resolved (已办结).
  for (const id of caseIds.slice(0, 2)) {
    await page.goto(`${server.url}/cases/${id}`);
    await waitReady(page);
    await page.locator('[data-testid=case-action][data-action=start]').click();
    await waitAttr(page, '[data-testid=case-status]', 'data-value', 'in_progress');
    await page.locator('[data-testid=case-action][data-action=resolve]').click();
    await waitAttr(page, '[data-testid=case-status]', 'data-value', 'resolved');
  }
  // The badge counts records with changes waiting: 20 visits and 5 cases (35 more ops behind them).
  const waiting = String(VISITS + CASES);
  await waitAttr(page, sel.badge, 'data-waiting', waiting);

  // Reload twice and restart the browser, still offline: all there, still signed in.
  for (let r = 0; r < 2; r++) {
    await page.reload();
    await waitReady(page);
  }
  await counts(page, server.url);
  await context.close();
  context = await launchPersistent(profile, PHONE);
  await context.setOffline(true);
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${server.url}/`);
  await waitReady(page);
  await waitAttr(page, '[data-testid=whoami]', 'data-username', warden);
  await counts(page, server.url);
  await waitAttr(page, sel.badge, 'data-waiting', waiting);
  await waitAttr(page, sel.badge, 'data-state', 'offline');

  // Online: no tap; everything reaches the server; up to date.
  await context.setOffline(false);
  await waitSynced(page);
  await waitAttr(page, sel.badge, 'data-waiting', '0');
  const records = await eventually('the server to hold the day', async () => {
    const all = await pullAll(server);
    const visits = all.filter((r) => r.collection === 'visits' && fieldValues(r).warden === warden);
    const cases = all.filter((r) => r.collection === 'cases' && caseIds.includes(r.id));
    return visits.length === VISITS && cases.length === CASES ? { visits, cases } : null;
  });
  assert.equal(records.visits.filter((r) => fieldValues(r).compound).length, VISITS / 2, 'half the visits name a compound');
  const resolved = records.cases.filter((r) => fieldValues(r).status === 'resolved');
  assert.equal(resolved.length, 2);
  for (const c of records.cases) {
    const [sha] = fieldValues(c).photos;
    const res = await fetch(`${server.url}/api/v1/blobs/${sha}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    assert.equal(res.status, 200, 'every photo was uploaded');
  }

  // The community manager sees the cases and closes a resolved one; the warden sees 销号.
  const browser = await launchBrowser(t);
  const m = await (await browser.newContext()).newPage();
  await signIn(m, server.url, manager, DEMO_PASSWORD);
  await m.goto(`${server.url}/cases/${resolved[0].id}`);
  await waitReady(m);
  await waitAttr(m, '[data-testid=case-status]', 'data-value', 'resolved');
  await m.locator('[data-testid=case-action][data-action=close]').click();
  await waitAttr(m, '[data-testid=case-status]', 'data-value', 'closed');
  await page.goto(`${server.url}/cases/${resolved[0].id}`);
  await waitReady(page);
  await waitAttr(page, '[data-testid=case-status]', 'data-value', 'closed');
  await context.close();
});
