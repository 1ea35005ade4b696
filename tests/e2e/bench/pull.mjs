// Benchmark (issue 4): initial pull of 10,000 records into IndexedDB, end to end, in headless
// Chromium: the server holds 10,000 cases; a fresh browser opens the app; we time from the
// sign-in until the app shows all 10,000 as stored locally (pulled, merged into IndexedDB,
// cursor stored — the count is read back from IndexedDB). Run: `cargo xtask bench pull`.
// Reports the figure; asserts nothing about time.

import { ADMIN, launchBrowser, startServer, waitAttr, waitReady } from '../harness.mjs';

const N = Number(process.env.TONGXIN_BENCH_RECORDS || 10000);
const RUNS = Number(process.env.TONGXIN_BENCH_RUNS || 3);

// A minimal stand-in for node:test's context: collects cleanups.
const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };

function uuid(n) {
  const hex = n.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function seed(url, token) {
  const now = Date.now();
  for (let b = 0; b < N / 500; b++) {
    const ops = [];
    for (let k = 0; k < 500; k++) {
      const i = b * 500 + k + 1;
      ops.push({
        id: uuid(0x10000000 + i),
        actor: uuid(1),
        hlc: `${String(now).padStart(15, '0')}-${String(i).padStart(6, '0')}`,
        collection: 'cases',
        record: uuid(0x20000000 + i),
        body: { kind: 'set', fields: { title: `路灯损坏 ${i}`, description: '三号楼门口路灯不亮，夜间出行不便', category: 'infrastructure', status: 'reported', reported_at: now } },
        schema: 1,
      });
    }
    const res = await fetch(`${url}/api/v1/sync/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tongxin-protocol': '1', authorization: `Bearer ${token}` },
      body: JSON.stringify({ protocol: 1, actor: uuid(1), ops }),
    });
    if (!res.ok) throw new Error(`seeding failed: ${res.status}`);
  }
}

try {
  const server = await startServer(t);
  await seed(server.url, server.adminToken);
  const browser = await launchBrowser(t);
  const times = [];
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext(); // a fresh profile: empty IndexedDB
    const page = await context.newPage();
    await page.goto(`${server.url}/login`);
    await waitReady(page);
    await page.locator('[data-testid=login-form] [name=username]').fill(ADMIN.username);
    await page.locator('[data-testid=login-form] [name=password]').fill(ADMIN.password);
    // Timed from the sign-in: the pull starts when the session exists.
    const started = Date.now();
    await page.locator('[data-testid=login-submit]').click();
    await waitAttr(page, '[data-testid=whoami]', 'data-username', ADMIN.username);
    await page.waitForFunction(
      (n) => /\b(\d+)\b/.exec(document.querySelector('.card .muted')?.textContent || '')?.[1] === String(n),
      N,
      { timeout: 120000, polling: 50 },
    );
    times.push(Date.now() - started);
    await context.close();
  }
  times.sort((a, b) => a - b);
  console.log(`pull: ${N} records into IndexedDB, ${RUNS} fresh browser profiles: median ${times[Math.floor(RUNS / 2)]} ms (all: ${times.join(', ')} ms; navigation -> stored and counted)`);
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
