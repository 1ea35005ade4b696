// Lists at city scale and the wide layout (issue 14, items 1 and 2). On the demo city with three
// months of history the city manager's case list and visit list (thousands each: the summary
// profile keeps open and recent cases and a week of visits) and the admin's user list (thousands
// of accounts) draw one page of rows while the count tells the whole; search, sort and paging work on all of them; a wide window gets tables
// and a map that uses the width, a phone keeps its cards.

import test from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, DEMO_PASSWORD, allUsers, launchBrowser, login, signIn, startServer, waitAttr, waitFor, waitReady } from './harness.mjs';
import { waitSynced } from './badge.mjs';
import { cityRecords, historyCity, newestFirst, retitle, setFields, userHay } from './lists_city.mjs';

// Three months make the city (8,405 cases, 46,801 visits); seeding and the first pull
// take ~6 min on two shared cores. TONGXIN_E2E_LIST_MONTHS=1 for a quicker local run.
const MONTHS = Number(process.env.TONGXIN_E2E_LIST_MONTHS || 3);
const PAGE = 50;
const WIDE = { viewport: { width: 1280, height: 900 } };
const PHONE = { viewport: { width: 390, height: 844 } };
/** The city manager's first pull of three months of history takes a while on two cores. */
const SYNC_MS = 10 * 60 * 1000;

const count = (page, testid) =>
  page.evaluate((s) => {
    const el = document.querySelector(`[data-testid=${s}]`);
    return el && { shown: Number(el.dataset.shown), total: Number(el.dataset.total), from: Number(el.dataset.from), to: Number(el.dataset.to) };
  }, testid);

const rows = (page, testid, attrs) =>
  page.evaluate(([s, a]) => [...document.querySelectorAll(`[data-testid=${s}]`)].map((el) => Object.fromEntries(a.map((k) => [k, el.getAttribute(`data-${k}`)]))), [testid, attrs]);

async function search(page, text) {
  await page.locator('[data-testid=list-search]').fill(text);
}

test('the city manager pages, searches and sorts the city\'s cases and visits; a wide window gets the wide layout', { timeout: 25 * 60 * 1000 }, async (t) => {
  const { server, cityToken } = await historyCity(t, MONTHS);
  const browser = await launchBrowser(t);
  const page = await (await browser.newContext(WIDE)).newPage();
  await signIn(page, server.url, 'city', DEMO_PASSWORD);
  await waitSynced(page, { timeout: SYNC_MS });
  // What the city manager's device holds (the summary profile: every open case, closed ones
  // changed in the last 30 days, a week of visits; records age out at UTC midnights), read
  // once the device has synced: thousands of each.
  const recs = await cityRecords(server, cityToken);
  const cases = recs.cases;
  const visits = recs.visits;
  assert.ok(cases.length > 1000 && visits.length > 3000, `a city's volumes (${cases.length} cases, ${visits.length} visits)`);

  const target = cases[Math.floor(cases.length / 2)];

  // Cases: a table of one page while the count tells every case on the device.
  await page.locator('nav.tabs a[href="/cases"]').click();
  await waitAttr(page, '[data-testid=cases-count]', 'data-total', String(cases.length), SYNC_MS);
  await waitFor(page, 'the cases table', () => document.querySelector('[data-testid=cases-table]') !== null);
  let c = await count(page, 'cases-count');
  assert.deepEqual(c, { shown: cases.length, total: cases.length, from: 1, to: PAGE });
  let shown = await rows(page, 'case-item', ['id', 'reported', 'status']);
  assert.equal(shown.length, PAGE, 'only one page of rows in the DOM');
  const newest = [...cases].sort(newestFirst);
  assert.deepEqual(shown.map((r) => r.id), newest.slice(0, PAGE).map((r) => r.id), 'newest report first');

  // The next page continues the order.
  await page.locator('[data-testid=page-next]').click();
  await waitAttr(page, '[data-testid=cases-count]', 'data-from', String(PAGE + 1));
  shown = await rows(page, 'case-item', ['id']);
  assert.deepEqual(shown.map((r) => r.id), newest.slice(PAGE, 2 * PAGE).map((r) => r.id));

  // Sorting: the reported column again → oldest first (and back to page 1).
  await page.locator('button[data-sort=reported]').click();
  await waitAttr(page, 'button[data-sort=reported]', 'data-state', 'ascending');
  await waitAttr(page, '[data-testid=cases-count]', 'data-from', '1');
  shown = await rows(page, 'case-item', ['id', 'reported']);
  assert.deepEqual(shown.map((r) => r.id), [...newest].reverse().slice(0, PAGE).map((r) => r.id), 'oldest first');
  // By status: the order of the lifecycle (reported first), then newest.
  await page.locator('button[data-sort=status]').click();
  await waitAttr(page, 'button[data-sort=status]', 'data-state', 'ascending');
  const lifecycle = ['reported', 'accepted', 'in_progress', 'resolved', 'closed'];
  const byStatus = [...cases].sort((a, b) => lifecycle.indexOf(a.status) - lifecycle.indexOf(b.status) || newestFirst(a, b));
  await waitFor(page, 'rows in status order', (first) => document.querySelector('[data-testid=case-item]')?.dataset.id === first, byStatus[0].id);
  shown = await rows(page, 'case-item', ['id']);
  assert.deepEqual(shown.map((r) => r.id), byStatus.slice(0, PAGE).map((r) => r.id));
  // By deadline: open cases, the most overdue first.
  await page.locator('button[data-sort=deadline]').click();
  await waitAttr(page, 'button[data-sort=deadline]', 'data-state', 'ascending');
  const open = new Set(['reported', 'accepted', 'in_progress']);
  const byDeadline = [...cases].sort((a, b) => (open.has(b.status) - open.has(a.status)) || (a.deadline ?? Infinity) - (b.deadline ?? Infinity) || newestFirst(a, b));
  await waitFor(page, 'rows in deadline order', (first) => document.querySelector('[data-testid=case-item]')?.dataset.id === first, byDeadline[0].id);
  assert.ok((await page.locator('[data-testid=case-item] [data-testid=overdue]').count()) > 0, 'the most overdue are flagged');

  // Search: one case gets a title nobody else has (a demo title finds hundreds), pushed from
  // elsewhere while the list is open: the rows follow the change record by record.
  await retitle(server, cityToken, target.id, '列表测试：独一无二的标题');
  await search(page, '独一无二');
  await waitAttr(page, '[data-testid=cases-count]', 'data-shown', '1');
  shown = await rows(page, 'case-item', ['id']);
  assert.deepEqual(shown.map((r) => r.id), [target.id]);
  // Search by a grid's name, combined with a filter kept from before.
  const grids = new Map(recs.grids.map((g) => [g.id, g]));
  const grid = grids.get(target.grid);
  await search(page, grid.code);
  const term = grid.code.toLowerCase();
  const gridHits = new Set(recs.grids.filter((g) => `${g.name}\n${g.id}\n${g.code}`.toLowerCase().includes(term)).map((g) => g.id));
  const inGrid = cases.filter((x) => gridHits.has(x.grid) || `${x.title}\n${x.description ?? ''}`.toLowerCase().includes(term));
  await waitAttr(page, '[data-testid=cases-count]', 'data-shown', String(inGrid.length));
  await page.locator('form.filters [name=status]').selectOption('closed');
  await waitAttr(page, '[data-testid=cases-count]', 'data-shown', String(inGrid.filter((x) => x.status === 'closed').length));

  // Visits: one page of tens of thousands, searched by warden and by compound.
  await page.locator('nav.tabs a[href="/visits"]').click();
  await waitAttr(page, '[data-testid=visits-count]', 'data-total', String(visits.length));
  assert.equal(await page.locator('[data-testid=visit-item]').count(), PAGE);
  const byWarden = visits.filter((v) => v.warden === 'w0001');
  await search(page, 'w0001');
  await waitAttr(page, '[data-testid=visits-count]', 'data-shown', String(byWarden.length));
  const warden = await rows(page, 'visit-item', ['id', 'at']);
  assert.deepEqual(warden.map((r) => r.id), [...byWarden].sort((a, b) => b.visited_at - a.visited_at || (b.id < a.id ? -1 : 1)).slice(0, PAGE).map((r) => r.id));
  const compound = recs.compounds.find((x) => visits.some((v) => v.compound === x.id));
  const namedLike = new Set(recs.compounds.filter((x) => `${x.name}\n${x.id}\n${x.code ?? ''}`.toLowerCase().includes(compound.name.toLowerCase())).map((x) => x.id));
  const gridsLike = new Set(recs.grids.filter((g) => `${g.name}\n${g.id}\n${g.code}`.toLowerCase().includes(compound.name.toLowerCase())).map((g) => g.id));
  const atCompound = visits.filter((v) => namedLike.has(v.compound) || gridsLike.has(v.grid));
  await search(page, compound.name);
  await waitAttr(page, '[data-testid=visits-count]', 'data-shown', String(atCompound.length));

  // The newest case and the newest visit deleted elsewhere: pulled, they leave the lists and
  // their counts (the device's live counts move in the pull's own transaction).
  const newestVisits = [...visits].sort((a, b) => b.visited_at - a.visited_at || (b.id < a.id ? -1 : 1));
  await setFields(server, cityToken, 'cases', newest[0].id, { deleted: true });
  await setFields(server, cityToken, 'visits', newestVisits[0].id, { deleted: true });
  const liveCases = newest.slice(1);
  const liveVisits = newestVisits.slice(1);
  await waitAttr(page, '[data-testid=visits-count]', 'data-total', String(liveVisits.length));
  await page.locator('nav.tabs a[href="/cases"]').click();
  await waitAttr(page, '[data-testid=cases-count]', 'data-total', String(liveCases.length));

  // Right after a reload each list opens on its newest rows and the device's count (read from
  // the device's list order while the rows' index is rebuilt), and pages on in the same order.
  for (const [href, testid, item, all] of [['/cases', 'cases-count', 'case-item', liveCases], ['/visits', 'visits-count', 'visit-item', liveVisits]]) {
    await page.goto(`${server.url}/`);
    await waitReady(page);
    await page.locator(`nav.tabs a[href="${href}"]`).click();
    await waitAttr(page, `[data-testid=${testid}]`, 'data-total', String(all.length));
    assert.deepEqual(await count(page, testid), { shown: all.length, total: all.length, from: 1, to: PAGE }, `${href} after a reload`);
    assert.deepEqual((await rows(page, item, ['id'])).map((r) => r.id), all.slice(0, PAGE).map((r) => r.id), `${href}: newest first after a reload`);
    await page.locator('[data-testid=page-next]').click();
    await waitAttr(page, `[data-testid=${testid}]`, 'data-from', String(PAGE + 1));
    assert.deepEqual((await rows(page, item, ['id'])).map((r) => r.id), all.slice(PAGE, 2 * PAGE).map((r) => r.id), `${href}: the next page after a reload`);
  }

  // The wide layout: the map uses the width (the app was capped at 720 px).
  await page.locator('nav.tabs a[href="/map"]').click();
  await waitFor(page, 'the map', () => document.querySelector('[data-testid=map]') !== null);
  const wideMap = await page.evaluate(() => document.querySelector('[data-testid=map]').getBoundingClientRect().width);
  assert.ok(wideMap > 760, `the map is ${wideMap} px wide at 1,280`);
  const wideApp = await page.evaluate(() => document.getElementById('app').getBoundingClientRect().width);
  assert.ok(wideApp >= 1200, `the app uses the whole window (${wideApp} px)`);

  // A phone (the same device, narrowed): cards, a sort menu, no table; the map as wide as the phone.
  await page.setViewportSize(PHONE.viewport);
  await page.locator('nav.tabs a[href="/cases"]').click();
  await waitAttr(page, '[data-testid=cases-count]', 'data-total', String(liveCases.length));
  await waitFor(page, 'cards instead of the table', () => document.querySelector('[data-testid=cases-table]') === null && document.querySelector('a.item[data-testid=case-item]') !== null);
  assert.equal(await page.locator('a.item[data-testid=case-item]').count(), PAGE, 'one page of cards');
  await page.locator('[data-testid=list-sort]').selectOption({ index: 1 });
  await waitFor(page, 'oldest first on the phone', (first) => document.querySelector('[data-testid=case-item]')?.dataset.id === first, newest[newest.length - 1].id);
  await page.locator('nav.tabs a[href="/map"]').click();
  await waitFor(page, 'the map', () => document.querySelector('[data-testid=map]') !== null);
  const phoneMap = await page.evaluate(() => document.querySelector('[data-testid=map]').getBoundingClientRect().width);
  assert.ok(phoneMap <= 390, `the map fits the phone (${phoneMap} px)`);
  const appWidth = await page.evaluate(() => document.getElementById('app').getBoundingClientRect().width);
  assert.ok(appWidth <= 390, 'the phone layout');
});

test('the admin searches, filters, sorts and pages the city\'s accounts on the server by username, role and area', { timeout: 10 * 60 * 1000 }, async (t) => {
  const server = await startServer(t, { demo: true, log: 'warn' });
  const cityToken = await login(server.url, 'city', DEMO_PASSWORD);
  const recs = await cityRecords(server, cityToken);
  const grid = recs.grids[Math.floor(recs.grids.length / 3)];
  const browser = await launchBrowser(t);
  // The admin's users: one page of thousands; search by username, role and area.
  const users = await allUsers(server);
  const places = new Map([...recs.subdistricts, ...recs.communities, ...recs.grids].map((p) => [p.id, p]));
  const admin = await (await browser.newContext(WIDE)).newPage();
  await signIn(admin, server.url, ADMIN.username, ADMIN.password);
  // The first page comes from the server with its areas named: no need for the device to have
  // synced the hierarchy first.
  await admin.locator('nav.tabs a[href="/admin"]').click();
  await waitAttr(admin, '[data-testid=users-count]', 'data-total', String(users.length));
  assert.ok(users.length > 6000, `a city's accounts (${users.length})`);
  assert.equal(await admin.locator('[data-testid=admin-user]').count(), PAGE);
  const areas = await admin.locator('[data-testid=admin-user-area]').allTextContents();
  assert.ok(areas.some((a) => a.trim() !== ''), 'someone on the first page has an area');
  assert.ok(!areas.some((a) => /[0-9a-f]{8}-[0-9a-f]{4}-/.test(a)), `areas by name, not id: ${areas.join(' | ')}`);
  const expect = (q) => {
    const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
    return users.filter((u) => terms.every((t) => userHay(u, places).includes(t))).map((u) => u.username).sort();
  };
  const answered = async (q) => {
    await waitAttr(admin, '[data-testid=admin-users]', 'data-q', q);
    await waitAttr(admin, '[data-testid=admin-users]', 'aria-busy', 'false');
  };
  for (const q of ['w0001', 'community_manager', grid.code, `${grid.name} warden`, '网格长']) {
    const want = expect(q);
    assert.ok(want.length > 0, `someone matches ${q}`);
    await search(admin, q);
    await answered(q);
    assert.equal(await admin.getAttribute('[data-testid=users-count]', 'data-shown'), String(want.length), `the count of ${q}`);
    const got = (await rows(admin, 'admin-user', ['username'])).map((r) => r.username);
    assert.deepEqual(got, want.slice(0, PAGE), `users matching ${q}, by username`);
  }
  // The next page of a search continues its order.
  const wardens = expect('warden');
  await search(admin, 'warden');
  await answered('warden');
  await admin.locator('[data-testid=page-next]').click();
  await waitFor(admin, 'the second page', (first) => document.querySelector('[data-testid=admin-user]')?.dataset.username === first, wardens[PAGE]);
  await waitAttr(admin, '[data-testid=admin-users]', 'aria-busy', 'false');
  assert.deepEqual((await rows(admin, 'admin-user', ['username'])).map((r) => r.username), wardens.slice(PAGE, 2 * PAGE));
  assert.equal((await count(admin, 'users-count')).from, PAGE + 1);
  // Sorted by role: the first role of the hierarchy first.
  await search(admin, '');
  await answered('');
  await admin.locator('button[data-sort=role]').click();
  await waitAttr(admin, 'button[data-sort=role]', 'data-state', 'ascending');
  await waitFor(admin, 'wardens first', () => document.querySelector('[data-testid=admin-user]')?.dataset.role === 'warden');
  // Only the grid leaders, still by role then username: the count is theirs.
  const leaders = users.filter((u) => u.role === 'grid_leader').map((u) => u.username).sort();
  await admin.locator('[data-testid=users-role]').selectOption('grid_leader');
  await waitAttr(admin, '[data-testid=users-count]', 'data-shown', String(leaders.length));
  await waitAttr(admin, '[data-testid=admin-users]', 'aria-busy', 'false');
  assert.deepEqual((await rows(admin, 'admin-user', ['username'])).map((r) => r.username), leaders.slice(0, PAGE));
  await admin.locator('[data-testid=users-role]').selectOption('');
  await waitAttr(admin, '[data-testid=users-count]', 'data-shown', String(users.length));
  // And the other way: the administrators first.
  await admin.locator('button[data-sort=role]').click();
  await waitAttr(admin, 'button[data-sort=role]', 'data-state', 'descending');
  await waitFor(admin, 'administrators first', () => document.querySelector('[data-testid=admin-user]')?.dataset.role === 'admin');
});
