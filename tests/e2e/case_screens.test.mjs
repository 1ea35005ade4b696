// The home screen, a case's page, the supervision screen and the phone (issue 14 items 6 and 7):
// each home tile opens the case list filtered to what it counted; managers get a manager's home;
// a case's page shows its summary and offers the form only to those who may edit (not a warden on
// a closed case); the supervision queue is its own screen with days overdue and level; at
// 390×844 the tabs hold one line in both languages and mark the current one, the filters are
// full-size, photos come from a camera button, Save stays on screen, wardens get no CSV export.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  CITY, PASSWORD, api, launchBrowser, login, setupCity, signIn, startServer, waitAttr, waitFor, waitReady,
} from './harness.mjs';
import { waitSynced } from './badge.mjs';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const IDS = {
  late: '00000000-0000-4000-8000-00000000ca01',
  soon: '00000000-0000-4000-8000-00000000ca02',
  closed: '00000000-0000-4000-8000-00000000ca03',
  other: '00000000-0000-4000-8000-00000000ca04',
};

/** Cases recorded through the real API as their users would: late, due soon, closed (G1), other (G2). */
async function seedCases(server) {
  const now = Date.now();
  let n = 0;
  const op = (actor, record, fields) => {
    n += 1;
    return {
      id: `00000000-0000-4000-9c00-${String(n).padStart(12, '0')}`,
      actor,
      hlc: `${String(now).padStart(15, '0')}-${String(n).padStart(6, '0')}`,
      collection: 'cases',
      record,
      body: { kind: 'set', fields },
      schema: 1,
    };
  };
  const push = async (username, actor, ops) => {
    const token = await login(server.url, username, PASSWORD);
    const res = await api(server.url, token, 'POST', '/api/v1/sync/push', { protocol: 2, actor, ops });
    assert.ok(res.results.every((r) => 'seq' in r), JSON.stringify(res));
  };
  const wa = '00000000-0000-4000-a000-00000000aa01';
  const report = (record, title, category, hours, reportedAt, reporter = 'wa') => op(wa, record, {
    grid: CITY.g1, title, category, source: 'patrol', status: 'reported', reporter, reported_at: reportedAt, deadline: reportedAt + hours * HOUR,
  });
  await push('wa', wa, [
    report(IDS.late, '逾期两天的垃圾点', 'environment', 72, now - 5 * DAY),
    report(IDS.soon, '今天到期的井盖', 'safety', 24, now - 23 * HOUR),
    report(IDS.closed, '已销号的路灯', 'infrastructure', 168, now - 2 * DAY),
    op(wa, IDS.closed, { status: 'in_progress' }),
    op(wa, IDS.closed, { status: 'resolved' }),
  ]);
  const cm = '00000000-0000-4000-a000-00000000cc01';
  await push('cm', cm, [op(cm, IDS.closed, { status: 'closed', closed_at: now })]);
  const wb = '00000000-0000-4000-a000-00000000bb01';
  await push('wb', wb, [op(wb, IDS.other, {
    grid: CITY.g2, title: '二网格的事', category: 'other', source: 'patrol', status: 'reported', reporter: 'wb', reported_at: now, deadline: now + 168 * HOUR,
  })]);
}

/** Opens the home screen, follows tile `testid`, and returns the ids the list then shows. */
async function followTile(page, url, testid) {
  await page.goto(`${url}/`);
  await waitReady(page);
  const n = Number(await (await waitFor(page, `the ${testid} tile`, (id) => document.querySelector(`[data-testid=${id}]`)?.dataset.n, testid)).jsonValue());
  await page.locator(`[data-testid=${testid}]`).click();
  await waitFor(page, 'the case list', () => location.pathname === '/cases');
  await waitAttr(page, '[data-testid=cases-count]', 'data-shown', String(n));
  return page.locator('[data-testid=case-item]').evaluateAll((els) => els.map((e) => e.dataset.id).sort());
}

test('home tiles open the list filtered; the case page shows a summary and edits on demand; the supervision screen', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  await seedCases(server);
  const browser = await launchBrowser(t);
  const warden = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  const manager = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(warden, server.url, 'wa');
  await signIn(manager, server.url, 'cm');
  await waitSynced(warden);
  await waitSynced(manager);

  // The warden's tiles: mine (open, reported by wa), due within a day, overdue.
  assert.deepEqual(await followTile(warden, server.url, 'today-mine'), [IDS.late, IDS.soon].sort());
  assert.deepEqual(await followTile(warden, server.url, 'today-soon'), [IDS.soon]);
  assert.deepEqual(await followTile(warden, server.url, 'today-overdue'), [IDS.late]);
  // The due-soon filter shows as a chip that clears it.
  await followTile(warden, server.url, 'today-soon');
  await warden.locator('[data-testid=filter-due-soon]').click();
  await waitAttr(warden, '[data-testid=cases-count]', 'data-shown', '3');

  // Home words by role.
  await warden.goto(`${server.url}/`);
  await waitReady(warden);
  await waitFor(warden, 'the warden home', () => document.querySelector('[data-testid=home-welcome]')?.textContent.includes('网格员工作台'));
  await manager.goto(`${server.url}/`);
  await waitReady(manager);
  await waitFor(manager, 'the manager home', () => document.querySelector('[data-testid=home-welcome]')?.textContent.includes('管理工作台'));
  assert.ok(!(await manager.locator('[data-testid=home-welcome]').textContent()).includes('网格员'), 'no warden text for managers');

  // A closed case, seen by the warden: the summary, and no form nor edit button.
  await warden.goto(`${server.url}/cases/${IDS.closed}`);
  await waitReady(warden);
  await waitAttr(warden, '[data-testid=case-status]', 'data-value', 'closed');
  await waitAttr(warden, '[data-testid=case-source]', 'data-value', 'patrol');
  await waitFor(warden, 'the grid named', () => document.querySelector('[data-testid=case-grid]')?.textContent.includes('第一网格'));
  await waitFor(warden, 'the reporter named', () => document.querySelector('[data-testid=case-reporter]')?.textContent === '网格员甲');
  assert.equal(await warden.locator('[data-testid=case-assignee]').getAttribute('data-value'), '');
  assert.equal(await warden.locator('[data-testid=edit-case]').count(), 0, 'a warden may not change a closed case');
  assert.equal(await warden.locator('form [name=title]').count(), 0, 'no form under a closed case');
  // The owning level may.
  await manager.goto(`${server.url}/cases/${IDS.closed}`);
  await waitReady(manager);
  await manager.locator('[data-testid=edit-case]').waitFor();

  // An open case: the form only on demand, with Save on screen at 390×844.
  await warden.goto(`${server.url}/cases/${IDS.late}`);
  await waitReady(warden);
  await waitAttr(warden, '[data-testid=case-deadline]', 'data-overdue', 'true');
  await warden.locator('[data-testid=edit-case]').waitFor();
  assert.equal(await warden.locator('form [name=title]').count(), 0, 'closed until asked for');
  await warden.locator('[data-testid=edit-case]').click();
  await warden.locator('form [name=title]').fill('逾期两天的垃圾点（已联系环卫）');
  await inViewport(warden, '[data-testid=save]');
  await warden.locator('[data-testid=save]').click();
  await waitFor(warden, 'the form closed, the title changed', () => !document.querySelector('form [name=title]')
    && document.querySelector('[data-testid=case-title]')?.textContent === '逾期两天的垃圾点（已联系环卫）');

  // The supervision screen: the case escalated to the community, with its days and level.
  await manager.goto(`${server.url}/supervision`);
  await waitReady(manager);
  await waitAttr(manager, '[data-testid=supervision-count]', 'data-n', '1');
  const item = manager.locator('[data-testid=supervision-item]');
  assert.equal(await item.getAttribute('data-id'), IDS.late);
  assert.equal(await item.getAttribute('data-level'), 'community');
  assert.equal(await item.getAttribute('data-days'), '2');
  assert.ok((await item.textContent()).includes('逾期 2 天'));
  await item.click();
  await waitFor(manager, 'the case page', (id) => location.pathname === `/cases/${id}`, IDS.late);
  await manager.locator('[data-testid=case-action][data-action=remind]').waitFor();
  // Not a warden's screen.
  assert.equal(await warden.locator('[data-testid=tabs] a[href="/supervision"]').count(), 0);
});

/** Asserts the element is fully inside the viewport without scrolling the page. */
async function inViewport(page, selector) {
  const box = await page.locator(selector).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, h: innerHeight };
  });
  assert.ok(box.top >= 0 && box.bottom <= box.h, `${selector} on screen: ${JSON.stringify(box)}`);
}

test('at 390×844 the tabs hold one line and mark the current screen; filters, camera and Save fit a phone', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  await seedCases(server);
  const browser = await launchBrowser(t);
  const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(page, server.url, 'wa');
  await waitSynced(page);

  for (const lang of ['zh-CN', 'en']) {
    await page.goto(`${server.url}/cases`);
    await waitReady(page);
    if ((await page.locator('html').getAttribute('lang')) !== lang) {
      await page.locator('[data-testid=lang-toggle]').click();
      await waitAttr(page, 'html', 'lang', lang);
    }
    // Every tab's label on one line (its text makes one line box), none scrolled out of view.
    const tabs = await page.locator('[data-testid=tabs] a').evaluateAll((as) => as.map((a) => {
      const range = document.createRange();
      range.selectNodeContents(a);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      const box = a.getBoundingClientRect();
      return { href: a.getAttribute('href'), text: a.textContent, lines: lines.size, right: box.right, current: a.getAttribute('aria-current') };
    }));
    for (const tab of tabs) {
      assert.equal(tab.lines, 1, `${lang}: "${tab.text}" on one line`);
      assert.ok(tab.right <= 390, `${lang}: "${tab.text}" fits the screen (${tab.right})`);
    }
    assert.deepEqual(tabs.filter((x) => x.current === 'page').map((x) => x.href), ['/cases'], `${lang}: the current tab is marked`);
    // The header's status items share one row (their vertical centres line up) and fit.
    const items = await page.locator('header.top .status > *').evaluateAll((els) => els.map((e) => {
      const r = e.getBoundingClientRect();
      return { mid: r.top + r.height / 2, right: r.right };
    }));
    const mids = items.map((i) => i.mid);
    assert.ok(Math.max(...mids) - Math.min(...mids) <= 2, `${lang}: the header on one row ${JSON.stringify(items)}`);
    assert.ok(items.every((i) => i.right <= 390), `${lang}: the header fits ${JSON.stringify(items)}`);
    // Full-size filter selects.
    const heights = await page.locator('.filters select').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
    assert.ok(heights.length >= 2 && heights.every((h) => h >= 44), `${lang}: filter selects ${heights}`);
    // Wardens are not offered the CSV export.
    await waitFor(page, 'the list', () => document.querySelector('[data-testid=cases-count]'));
    assert.equal(await page.locator('[data-testid=export-csv]').count(), 0);

    // The report form: a camera button, and Save on screen before any scrolling.
    await page.locator('[data-testid=tabs] a[href="/cases/new"]').click();
    await waitFor(page, 'the report form', () => document.querySelector('form [name=title]'));
    assert.equal(await page.locator('[data-testid=tabs] a[aria-current=page]').getAttribute('href'), '/cases/new');
    const camera = page.locator('[data-testid=camera-button]');
    const cam = await camera.evaluate((el) => ({ h: el.getBoundingClientRect().height, text: el.textContent.trim(), w: el.getBoundingClientRect().width }));
    assert.ok(cam.h >= 44 && cam.w >= 44 && cam.text.length > 0, JSON.stringify(cam));
    const input = camera.locator('input[type=file][name=photos]');
    assert.equal(await input.getAttribute('accept'), 'image/*');
    assert.equal(await input.getAttribute('capture'), 'environment');
    assert.equal(await page.evaluate(() => scrollY), 0);
    await inViewport(page, '[data-testid=save]');
  }
});
