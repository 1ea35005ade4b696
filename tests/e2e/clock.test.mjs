// Phones whose clocks are wrong by days (issue 15, "Clock skew"). The app's clock is moved for
// real: an init script replaces the page's `Date` (the wasm reads the time through `Date.now`
// and `new Date`) with one running `skew` ms off, changeable at run time (`__setSkew`, kept in
// localStorage so a reload keeps it).
//
// - Two devices, one 2 days 3 h ahead and one 3 days behind from the start: every time the app
//   records (report time, stamps) is the server's, the sync panel explains each clock, and after
//   concurrent edits both devices and the server converge on the later edit.
// - A clock that jumps 3 days ahead while offline: the ops stamped by it are refused as
//   clock_ahead, sent again by themselves under the corrected clock with their recorded times
//   moved along, explained in the panel; every op of the device is in the server's op log once,
//   and both devices converge.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  ensureControlled, fillCase, fieldValues, launchBrowser, sel, serverCase, setupCity, signIn, startServer, waitAttr, waitFor, waitReady,
  waitText,
  expectCase, goOffline
} from './harness.mjs';
import { waitSynced } from './badge.mjs';
import { deviceState, sql } from './lossy_day.mjs';

const zh = JSON.parse(await readFile(new URL('../../app/locales/zh-CN.json', import.meta.url), 'utf8'));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How far a recorded time may be from the real time of the step that recorded it. */
const SLACK = 60_000;

/** The phone's clock of every page of `context` runs `skew` ms off real time. */
async function skewClock(context, skew) {
  await context.addInitScript((initial) => {
    const RealDate = Date;
    const realNow = RealDate.now.bind(RealDate);
    let off = Number(localStorage.getItem('tongxin-test-skew-ms') ?? initial);
    class PhoneDate extends RealDate {
      constructor(...args) {
        if (args.length === 0) super(realNow() + off);
        else super(...args);
      }
      static now() {
        return realNow() + off;
      }
    }
    globalThis.Date = PhoneDate;
    window.__setSkew = (ms) => {
      off = ms;
      localStorage.setItem('tongxin-test-skew-ms', String(ms));
    };
  }, skew);
}

/** The wall-clock ms of a stamp (`{ hlc: "000001732…-000003", actor }`). */
const wall = (stamp) => Number(stamp.hlc.slice(0, 15));

function assertNear(what, value, from, to) {
  assert.ok(value >= from - SLACK && value <= to + SLACK, `${what}: ${new Date(value).toISOString()} is not within a minute of ${new Date(from).toISOString()}..${new Date(to).toISOString()}`);
}

/** Opens the sync panel and returns the clock explanation and its offset. */
async function clockNotice(page) {
  if ((await page.locator('[data-testid=last-synced]').count()) === 0) await page.locator(sel.badge).click();
  const notice = page.locator('[data-testid=clock-offset]');
  await notice.waitFor();
  return { text: (await notice.textContent()).trim(), offset: Number(await notice.getAttribute('data-offset-ms')) };
}

test('phones days ahead and behind record the server\'s time, are told, and converge', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  await skewClock(ctxA, 2 * DAY + 3 * HOUR);
  await skewClock(ctxB, -3 * DAY);
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  await signIn(a, server.url, 'wa');
  await signIn(b, server.url, 'wa');
  await waitSynced(a);
  await waitSynced(b);
  assert.ok((await a.evaluate(() => Date.now())) - Date.now() > 2 * DAY, 'page A reads a clock two days ahead');
  assert.ok(Date.now() - (await b.evaluate(() => Date.now())) > 3 * DAY - HOUR, 'page B reads a clock three days behind');

  // A reports a case: its report time, deadline base and stamps are the server's time.
  const original = { title: '时钟超前两天时上报', description: '原始描述', category: 'environment' };
  const t0 = Date.now();
  await a.goto(`${server.url}/cases/new`);
  await waitReady(a);
  await fillCase(a, original);
  const record = await serverCase(server, original);
  const t1 = Date.now();
  assertNear('reported_at', fieldValues(record).reported_at, t0, t1);
  assertNear('the title stamp', wall(record.fields.title.stamp), t0, t1);
  await waitAttr(a, sel.badge, 'data-rejected', '0');
  const id = record.id;

  // Each phone is told how far off its clock is.
  const noticeA = await clockNotice(a);
  assert.ok(Math.abs(noticeA.offset + 2 * DAY + 3 * HOUR) < SLACK, `A's offset ${noticeA.offset}`);
  assert.equal(noticeA.text, zh['sync.clock.ahead'].replace('{d}', '2 天 3 小时'));
  const noticeB = await clockNotice(b);
  assert.ok(Math.abs(noticeB.offset - 3 * DAY) < SLACK, `B's offset ${noticeB.offset}`);
  assert.equal(noticeB.text, zh['sync.clock.behind'].replace('{d}', '3 天 0 小时'));

  // B opens the case (it arrives by pull); A goes offline and edits title and category; B,
  // online and later, edits description and category. The later edit is B's (by real time).
  await b.goto(`${server.url}/cases/${id}`);
  await waitReady(b);
  await expectCase(b, original);
  await a.goto(`${server.url}/cases/${id}`);
  await waitReady(a);
  await expectCase(a, original);
  await ctxA.setOffline(true);
  await waitAttr(a, sel.net, 'data-online', 'false');
  const x = '时钟超前的设备离线修改';
  await fillCase(a, { title: x, category: 'safety' });
  await expectCase(a, { title: x, category: 'safety' });
  const aEdited = Date.now();
  const y = '时钟落后三天的设备在线补充';
  await fillCase(b, { description: y, category: 'property_management' });
  await serverCase(server, { id, description: y, category: 'property_management' });
  const bEdited = Date.now();
  assert.ok(bEdited > aEdited);

  // A reconnects: both converge on A's title, B's description and B's (later) category.
  await ctxA.setOffline(false);
  const converged = { title: x, description: y, category: 'property_management' };
  await expectCase(a, converged);
  await expectCase(b, converged);
  const final = await serverCase(server, { id, ...converged });
  assertNear('A\'s title stamp (made offline, 2 days ahead)', wall(final.fields.title.stamp), t1, aEdited);
  assertNear('B\'s category stamp (3 days behind)', wall(final.fields.category.stamp), aEdited, bEdited);
  for (const page of [a, b]) {
    await waitSynced(page);
    await waitAttr(page, sel.badge, 'data-rejected', '0');
  }
});

test('a clock that jumps 3 days ahead offline: clock_ahead, re-sent by itself, explained, nothing lost', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  await skewClock(ctxA, 0);
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  const refusals = [];
  a.on('response', async (res) => {
    if (res.url().includes('/api/v1/sync/push') && res.ok()) {
      const body = await res.text().catch(() => '');
      refusals.push((body.match(/"clock_ahead"/g) ?? []).length);
    }
  });
  await signIn(a, server.url, 'wa');
  await signIn(b, server.url, 'wa');
  const original = { title: '跳变前的事件', description: '原始描述', category: 'environment' };
  await a.goto(`${server.url}/cases/new`);
  await waitReady(a);
  await fillCase(a, original);
  const { id } = await serverCase(server, original);
  await waitSynced(a);
  await b.goto(`${server.url}/cases/${id}`);
  await waitReady(b);
  await expectCase(b, original);

  // Offline, A's clock jumps 3 days ahead (the page is reloaded: a new page reads the phone's
  // clock afresh); A edits the case and reports a new one.
  await goOffline(a);
  await waitAttr(a, sel.net, 'data-online', 'false');
  await a.evaluate((ms) => window.__setSkew(ms), 3 * DAY);
  await a.goto(`${server.url}/cases/${id}`);
  await waitReady(a);
  await expectCase(a, original);
  const x = '时钟跳快三天后离线修改';
  await fillCase(a, { title: x });
  await expectCase(a, { title: x });
  const fresh = { title: '时钟跳快三天后上报', category: 'safety' };
  await a.goto(`${server.url}/cases/new`);
  await waitReady(a);
  await fillCase(a, fresh);
  await waitText(a, sel.caseTitle, fresh.title);
  const queued = await deviceState(a, 'wa');
  assert.ok(queued.outbox.length >= 3, `A's edit and new case wait: ${queued.outbox.length} ops`);
  for (const op of queued.outbox) assert.ok(wall({ hlc: op.hlc }) > Date.now() + 2 * DAY, 'stamped by the wrong clock');
  const reportedAhead = queued.outbox.find((op) => op.body?.fields?.reported_at)?.body.fields.reported_at;
  assert.ok(reportedAhead > Date.now() + 2 * DAY, 'the report time read from the wrong clock too');

  // B, online, edits the description meanwhile.
  const y = '另一台设备在线补充';
  await fillCase(b, { description: y });
  await serverCase(server, { id, description: y });

  // A reconnects, no tap: refused as clock_ahead, then sent again under the server's time.
  const t0 = Date.now();
  await ctxA.setOffline(false);
  const created = await serverCase(server, fresh);
  await serverCase(server, { id, title: x, description: y });
  const t1 = Date.now();
  assert.ok(refusals.some((n) => n > 0), `a push was answered clock_ahead (${refusals})`);
  assertNear('the new case\'s report time, moved with its stamp', fieldValues(created).reported_at, t0, t1);
  assertNear('its title stamp', wall(created.fields.title.stamp), t0, t1);
  await waitSynced(a);
  await waitAttr(a, sel.badge, 'data-rejected', '0');
  await waitAttr(a, sel.badge, 'data-waiting', '0');

  // Explained: the panel says the phone runs 3 days ahead.
  const notice = await clockNotice(a);
  assert.ok(Math.abs(notice.offset + 3 * DAY) < SLACK, `offset ${notice.offset}`);
  assert.equal(notice.text, zh['sync.clock.ahead'].replace('{d}', '3 天 0 小时'));

  // Nothing lost or twice: every op A queued is in the op log exactly once (same ids).
  const ids = queued.outbox.map((op) => op.id);
  const rows = sql(server, `SELECT op_id FROM ops WHERE op_id IN (${ids.map((i) => `'${i}'`).join(',')})`);
  assert.deepEqual(rows.map((r) => r.op_id).sort(), [...ids].sort());

  // Both devices converge.
  await a.goto(`${server.url}/cases/${id}`);
  await waitReady(a);
  const converged = { title: x, description: y };
  await expectCase(a, converged);
  await expectCase(b, converged);
  await waitFor(b, 'B to list nothing refused', (s) => document.querySelector(s)?.dataset.rejected === '0', sel.badge);
});

test('the phone\'s time set back 2 days while the app is open offline: times and stamps stay right', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  await skewClock(ctxA, 0);
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  await signIn(a, server.url, 'wa');
  await signIn(b, server.url, 'wa');
  const original = { title: '回拨前的事件', description: '原始描述', category: 'environment' };
  await a.goto(`${server.url}/cases/new`);
  await waitReady(a);
  await fillCase(a, original);
  const { id } = await serverCase(server, original);
  await waitSynced(a);

  // A goes offline and opens the case's page from the service worker: a page that never hears
  // the server, so its clock runs from the one kept on the device. B, online, retitles the case;
  // only then does A's phone time go back 2 days (the page stays open: no reload) and A retitles
  // it too, and reports a new case.
  await ensureControlled(a);
  await ctxA.setOffline(true);
  await a.goto(`${server.url}/cases/${id}`);
  await waitReady(a);
  await expectCase(a, original);
  await waitAttr(a, sel.net, 'data-online', 'false');
  await b.goto(`${server.url}/cases/${id}`);
  await waitReady(b);
  await expectCase(b, original);
  const byB = 'B 先在线改的标题';
  await fillCase(b, { title: byB });
  await serverCase(server, { id, title: byB });
  const t0 = Date.now();
  await a.evaluate((ms) => window.__setSkew(ms), -2 * DAY);
  assert.ok(Date.now() - (await a.evaluate(() => Date.now())) > 2 * DAY - HOUR, 'A\'s page reads a clock two days behind');
  const byA = 'A 之后离线改的标题';
  await fillCase(a, { title: byA });
  await expectCase(a, { title: byA });
  await a.locator('a[href="/cases/new"]').first().click();
  await waitFor(a, 'the new-case form', () => location.pathname === '/cases/new' && !!document.querySelector('form [name=title]'));
  const fresh = { title: '时钟回拨后上报', category: 'safety' };
  await fillCase(a, fresh);
  await waitText(a, sel.caseTitle, fresh.title);
  const t1 = Date.now();
  for (const op of (await deviceState(a, 'wa')).outbox) assertNear(`op ${op.id}'s stamp`, wall({ hlc: op.hlc }), t0, t1);

  // Online: A's later edit wins everywhere, and the report time is the real one.
  await ctxA.setOffline(false);
  const created = await serverCase(server, fresh);
  assertNear('the report time', fieldValues(created).reported_at, t0, t1);
  await serverCase(server, { id, title: byA });
  await b.goto(`${server.url}/cases/${id}`);
  await waitReady(b);
  await expectCase(b, { title: byA });
  await waitSynced(a);
  await waitAttr(a, sel.badge, 'data-rejected', '0');
});
