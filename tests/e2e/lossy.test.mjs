// Issue 15: a warden's offline day pushed through a lossy link. The browser talks to the real
// server through the fault proxy (faultproxy.mjs). Clean while the warden signs in; offline for
// the day (visits, households registered on the spot, cases, timeline notes, photos) on a
// 390×844 screen; then back online with 30% of the API exchanges faulted (connections dropped
// before and after the server committed, delays, duplicates, 502/503/504, truncated answers, the
// live stream cut). Asserted: every op the device queued is in the server's op log exactly once
// (rows and distinct ids, read from the SQLite file), none refused, every record the device made
// is stored with its fields, every photo is there, the outbox ends empty and the badge up to
// date. How long it took is printed; the deadline is generous (today's client backs off up to
// 30 s after failed rounds) but bounded.

import test from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD, ensureControlled, launchBrowser, sel, signIn, startServer, waitAttr } from './harness.mjs';
import { startFaultProxy } from './faultproxy.mjs';
import { assertNothingLost, deviceState, opLog, outboxSummary, until, workOffline } from './lossy_day.mjs';

const SEED = Number(process.env.TONGXIN_LOSSY_SEED || 15);
const RATE = 0.3;
/** From reconnecting until the badge must say up to date. */
const CONVERGE_MS = Number(process.env.TONGXIN_LOSSY_DEADLINE_MS || 150000);

test('an offline day reaches the server through a link with 30% faulted exchanges: exactly once, nothing lost', { timeout: 300000 }, async (t) => {
  const server = await startServer(t, { demo: true });
  // Certain, on top of the random faults: the first push and the first photo upload reach the
  // server, which commits them, and their answers are lost.
  const proxy = await startFaultProxy(t, server.url, {
    seed: SEED,
    rate: 0,
    first: { 'POST /api/v1/sync/push': 'drop_after', 'PUT /api/v1/blobs/{sha}': 'drop_after' },
  });
  const warden = 'w0001';
  const browser = await launchBrowser(t);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await signIn(page, proxy.url, warden, DEMO_PASSWORD);
  await ensureControlled(page);
  await waitAttr(page, sel.badge, 'data-state', 'synced');

  await context.setOffline(true);
  const caseIds = await workOffline(page, proxy.url, {
    visits: 12,
    householdEvery: 4,
    cases: 4,
    photoCases: 2,
    photosPerCase: 1,
    worked: 2,
  });
  const before = await deviceState(page, warden);
  const { actor } = outboxSummary(before);
  // 12 visits, 3 households, 4 cases (each with its report entry), 2 × (start, resolve) steps.
  assert.ok(before.outbox.length >= 12 + 3 + 4, `${before.outbox.length} ops queued`);
  assert.equal(before.blobs.length, 2, 'two photos on the device');
  assert.equal(before.pendingBlobs.length, 2, 'both wait to upload');
  assert.equal(opLog(server, actor).rows, 0, 'nothing of the day reached the server while offline');

  // Back online through the lossy link.
  proxy.setRate(RATE);
  const online = Date.now();
  await context.setOffline(false);
  const deadline = online + CONVERGE_MS;
  // Watched side by side: the server's op log, the badge, the device's photo queue.
  const [onServer, upToDate, photosDone] = await Promise.all([
    until(() => opLog(server, actor).distinct === before.outbox.length, deadline),
    until(
      () => page.evaluate((s) => {
        const b = document.querySelector(s);
        return b?.dataset.state === 'synced' && b.dataset.waiting === '0';
      }, sel.badge),
      deadline,
    ),
    until(async () => (await deviceState(page, warden)).pendingBlobs.length === 0, deadline),
  ]);
  const secs = (at) => (at === null ? `not within ${CONVERGE_MS / 1000} s` : `${((at - online) / 1000).toFixed(1)} s`);
  console.log(
    `lossy link (seed ${SEED}, ${RATE * 100}% faulted): ${before.outbox.length} ops, every op on the server after ${secs(onServer)}, ` +
      `photos uploaded after ${secs(photosDone)}, badge up to date after ${secs(upToDate)}; proxy: ${proxy.summary()}`,
  );
  assert.ok(onServer && upToDate && photosDone, 'the device converged within the deadline');
  // Still exactly once after every retry has settled.
  proxy.setRate(0);
  const after = await deviceState(page, warden);
  const proven = assertNothingLost(server, before, after);
  assert.equal(proven.photos, 2);
  assert.ok(caseIds.length === 4);
  // The faults really happened, also to exchanges the server had already committed.
  assert.ok(proxy.stats.faulted >= 3, `faults: ${proxy.summary()}`);
  assert.ok(proxy.stats.paths['POST /api/v1/sync/push'].faults.drop_after >= 1, 'a committed push lost its answer');
  const kinds = Object.entries(proxy.stats.kinds).filter(([, n]) => n > 0).map(([k]) => k);
  assert.ok(kinds.length >= 3, `several kinds of fault: ${proxy.summary()}`);
  await waitAttr(page, sel.badge, 'data-rejected', '0');
  if (errors.length) console.log(`page errors: ${errors.join(' | ')}`);
});
