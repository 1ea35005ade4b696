// Benchmark (issue 15): a week offline reconnecting through a lossy link. A demo warden enters a
// week through the app's screens on a 390×844 screen, offline (200 visits, 61 households
// registered on the spot, 30 cases with 2 photos each = 60 photos, 10 cases worked to 已办结
// with timeline notes). The browser profile and the server's data are then copied, and the same
// device reconnects twice, CPU throttled 4× (CDP Emulation.setCPUThrottlingRate): once through
// a clean link, once through the fault proxy with 30% of the API exchanges faulted. Timed from
// going online: every op (so every record, with its fields) in the server's op log, every photo
// on the server, the badge up to date. Nothing lost, nothing twice is asserted as in the test.
// Run: `cargo xtask bench lossy` (env TONGXIN_BENCH_LOSSY_SCALE=0.25 for a quick run).

import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_PASSWORD, ensureControlled, launchPersistent, sel, signIn, startServer, waitAttr, waitReady } from '../harness.mjs';
import { startFaultProxy } from '../faultproxy.mjs';
import { assertNothingLost, deviceState, opLog, outboxSummary, sql, until, workOffline } from '../lossy_day.mjs';

const SCALE = Number(process.env.TONGXIN_BENCH_LOSSY_SCALE || 1);
const SEED = Number(process.env.TONGXIN_LOSSY_SEED || 15);
const RATE = 0.3;
const THROTTLE = 4;
const DEADLINE_MS = Number(process.env.TONGXIN_BENCH_LOSSY_DEADLINE_MS || 900000);
const PHONE = { viewport: { width: 390, height: 844 } };
const WARDEN = 'w0001';
const PLAN = {
  visits: Math.round(200 * SCALE),
  householdEvery: 3,
  maxHouseholds: Math.round(61 * SCALE),
  cases: Math.round(30 * SCALE),
  photoCases: Math.round(30 * SCALE),
  photosPerCase: 2,
  worked: Math.round(10 * SCALE),
  photoSize: [1600, 1200],
};

// A minimal stand-in for node:test's context: collects cleanups (run last-in, first-out).
const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };

async function temp(prefix) {
  const dir = await mkdtemp(path.join(tmpdir(), `tongxin-bench-lossy-${prefix}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Reconnects the saved device to a server on `dataDir` through a proxy on `port` faulting `rate`. */
async function reconnect(label, dataDir, profile, port, rate, before) {
  const local = [];
  const scope = { after: (fn) => local.push(fn) };
  try {
    const server = await startServer(scope, { dataDir });
    const proxy = await startFaultProxy(scope, server.url, {
      seed: SEED,
      rate: 0,
      port,
      first: rate > 0 ? { 'POST /api/v1/sync/push': 'drop_after', 'PUT /api/v1/blobs/{sha}': 'drop_after' } : {},
    });
    const context = await launchPersistent(profile, { ...PHONE, offline: true });
    scope.after(() => context.close().catch(() => {}));
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${proxy.url}/`);
    await waitReady(page);
    await waitAttr(page, '[data-testid=whoami]', 'data-username', WARDEN);
    await waitAttr(page, sel.badge, 'data-state', 'offline');
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });

    const { actor } = outboxSummary(before);
    const photos = before.blobs.length;
    proxy.setRate(rate);
    const online = Date.now();
    await context.setOffline(false);
    const deadline = online + DEADLINE_MS;
    // Watched side by side: the op log, the photos on the server, the badge, the device's queue.
    const [records, uploaded, badge, done] = await Promise.all([
      until(() => opLog(server, actor).distinct === before.outbox.length, deadline),
      until(() => sql(server, 'SELECT COUNT(*) AS n FROM blobs')[0].n >= photos, deadline),
      until(() => page.evaluate((s) => document.querySelector(s)?.dataset.state === 'synced', sel.badge), deadline),
      until(async () => (await deviceState(page, WARDEN)).pendingBlobs.length === 0, deadline),
    ]);
    proxy.setRate(0);
    const secs = (at) => (at === null ? null : (at - online) / 1000);
    const result = {
      label,
      records: secs(records),
      photos: secs(uploaded),
      badge: secs(badge),
      photosDone: secs(done),
      proxy: proxy.summary(),
    };
    if (records && done) {
      const after = await deviceState(page, WARDEN);
      result.proven = assertNothingLost(server, before, after);
    }
    const [{ bytes }] = sql(server, 'SELECT SUM(size) AS bytes FROM blobs');
    result.photoBytes = bytes;
    return result;
  } finally {
    for (const fn of local.reverse()) await fn();
  }
}

try {
  // The week, entered once.
  const server = await startServer(t, { demo: true });
  const proxy = await startFaultProxy(t, server.url, { rate: 0 });
  const port = Number(new URL(proxy.url).port);
  const profile = await temp('profile');
  let context = await launchPersistent(profile, PHONE);
  const page = context.pages()[0] ?? (await context.newPage());
  await signIn(page, proxy.url, WARDEN, DEMO_PASSWORD);
  await ensureControlled(page);
  await waitAttr(page, sel.badge, 'data-state', 'synced');
  await context.setOffline(true);
  const entered = Date.now();
  await workOffline(page, proxy.url, PLAN);
  const before = await deviceState(page, WARDEN);
  console.log(
    `lossy bench: entered ${PLAN.visits} visits, ${PLAN.maxHouseholds} households, ${PLAN.cases} cases, ` +
      `${before.blobs.length} photos offline in ${((Date.now() - entered) / 1000).toFixed(0)} s (${before.outbox.length} ops queued)`,
  );
  await context.close();
  context = null;
  await proxy.stop();
  await server.stop();

  // Two copies of the device and of the server, one per link.
  const runs = [];
  for (const [label, rate] of [['clean link', 0], [`${RATE * 100}% faulted`, RATE]]) {
    const data = await temp('data');
    const prof = await temp('prof');
    await cp(server.dataDir, data, { recursive: true });
    await cp(profile, prof, { recursive: true });
    const r = await reconnect(label, data, prof, port, rate, before);
    runs.push(r);
    console.log(`lossy bench: ${JSON.stringify(r)}`);
  }
  const [clean, lossy] = runs;
  const rate = (r) => (r.photos ? before.blobs.length / r.photos : 0);
  const kb = Math.round(clean.photoBytes / before.blobs.length / 1024);
  console.log(
    `lossy bench (CPU ${THROTTLE}x, seed ${SEED}): ${before.outbox.length} ops, ${before.blobs.length} photos of ~${kb} KB.\n` +
      `  clean link:   every record on the server ${clean.records ?? 'never'} s, photos ${clean.photos ?? 'never'} s (${rate(clean).toFixed(2)} photos/s), badge synced ${clean.badge ?? 'never'} s\n` +
      `  30% faulted:  every record on the server ${lossy.records ?? 'never'} s, photos ${lossy.photos ?? 'never'} s (${rate(lossy).toFixed(2)} photos/s = ${((100 * rate(lossy)) / (rate(clean) || 1)).toFixed(0)}% of clean), badge synced ${lossy.badge ?? 'never'} s\n` +
      `  faults: ${lossy.proxy}`,
  );
  if (!clean.proven || !lossy.proven) {
    process.exitCode = 1;
    console.error('lossy bench: a run did not converge within the deadline');
  }
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
