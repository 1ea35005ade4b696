// Benchmark (issue 4, made to measure what users do in issue 15): a warden's first sign-in on a
// fresh phone, pulling 10,000 cases into IndexedDB, end to end, in headless Chromium. The test
// city (harness `setupCity`) holds 10,000 cases in grid G1, written through the API by its
// warden as the app writes them: every field a reported case carries (grid, title,
// description, category, source, status, reporter, reported_at, deadline, position, the
// resident's name and phone) and a timeline with the report entry and a note. A fresh browser
// profile opens the app and signs in as the warden (TONGXIN_BENCH_READER=cm: the community
// manager). Two figures per run, each labelled by where its timer starts: from the navigation
// (page.goto of the sign-in page: app download, wasm compile, IndexedDB open, sign-in, pull) and
// from the sign-in click (the pull itself), both until the app shows all cases counted in
// IndexedDB. Run: `cargo xtask bench pull`. Reports the figures; asserts nothing about time.
// (Until 2026-11-29 the administrator pulled cases of five fields without a timeline, and the
// timer started at the sign-in click while the output said "navigation".)

import { CITY, PASSWORD, launchBrowser, login, setupCity, startServer, waitAttr, waitReady } from '../harness.mjs';

// Who writes the cases (a warden of grid G1) and who signs in on a fresh phone to pull them.
const WRITER = 'wa';
const READER = process.env.TONGXIN_BENCH_READER || 'wa';

const N = Number(process.env.TONGXIN_BENCH_RECORDS || 10000);
const RUNS = Number(process.env.TONGXIN_BENCH_RUNS || 3);

// A minimal stand-in for node:test's context: collects cleanups.
const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };

function uuid(n) {
  const hex = n.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const HOUR = 3600 * 1000;

async function push(url, token, ops) {
  const res = await fetch(`${url}/api/v1/sync/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tongxin-protocol': '2', authorization: `Bearer ${token}` },
    body: JSON.stringify({ protocol: 2, actor: uuid(2), ops }),
  });
  if (!res.ok) throw new Error(`seeding failed: ${res.status}`);
  const body = await res.json();
  const refused = body.results.filter((r) => r.rejected);
  // Every op must be stored, or the bench would pull fewer or thinner records than it says.
  if (refused.length) throw new Error(`seeding refused ${refused.length} ops, e.g. ${JSON.stringify(refused[0].rejected)}`);
}

async function seed(server) {
  await setupCity(server);
  const url = server.url;
  const token = await login(url, WRITER, PASSWORD);
  const grid = CITY.g1;
  const now = Date.now();
  let serial = 0;
  const op = (collection, record, body) => {
    serial += 1;
    return {
      id: uuid(0x10000000 + serial),
      actor: uuid(2),
      hlc: `${String(now).padStart(15, '0')}-${String(serial).padStart(6, '0')}`,
      collection,
      record,
      body,
      schema: 1,
    };
  };
  for (let b = 0; b < N / 250; b++) {
    const ops = [];
    for (let k = 0; k < 250; k++) {
      const i = b * 250 + k + 1;
      const record = uuid(0x20000000 + i);
      ops.push(op('cases', record, {
        kind: 'set',
        fields: {
          grid,
          title: `路灯损坏 ${i}`,
          description: '三号楼门口路灯不亮，夜间出行不便，已有老人摔倒，请尽快维修。',
          category: 'infrastructure',
          source: 'patrol',
          status: 'reported',
          reporter: WRITER,
          reported_at: now,
          deadline: now + 24 * HOUR,
          position: [100.2299 + (i % 100) * 1e-5, 25.6065 + (i % 97) * 1e-5, 8],
          resident_name: '李秀英',
          resident_phone: '13987654321',
        },
      }));
      ops.push(op('cases', record, {
        kind: 'append',
        entry: { id: uuid(0x40000000 + 2 * i), data: { action: 'report', from: null, to: 'reported', by: WRITER } },
      }));
      ops.push(op('cases', record, {
        kind: 'append',
        entry: { id: uuid(0x40000001 + 2 * i), data: { action: 'note', by: WRITER, text: '已电话联系居民，明早带电工到现场。' } },
      }));
    }
    await push(url, token, ops);
  }
}

try {
  const server = await startServer(t);
  await seed(server);
  const browser = await launchBrowser(t);
  const fromNavigation = [];
  const fromSignIn = [];
  // The app's own User Timing measures (app/src/timing.rs): the pull, the lists' index read
  // back and built from stored rows (the first of each; -1: none), and the lists' rows a first
  // sync left out, written after its round (`LocalStore::defer_rows`; after the count shows).
  const PARTS = ['tongxin:pull', 'tongxin:list-rows-read', 'tongxin:list-rows-index', 'tongxin:unstage', 'tongxin:rows-complete'];
  const parts = Object.fromEntries(PARTS.map((p) => [p, []]));
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext(); // a fresh profile: empty IndexedDB
    const page = await context.newPage();
    const navigated = Date.now();
    await page.goto(`${server.url}/login`);
    await waitReady(page);
    await page.locator('[data-testid=login-form] [name=username]').fill(READER);
    await page.locator('[data-testid=login-form] [name=password]').fill(PASSWORD);
    // Timed from the sign-in: the pull starts when the session exists.
    const started = Date.now();
    await page.locator('[data-testid=login-submit]').click();
    await waitAttr(page, '[data-testid=whoami]', 'data-username', READER);
    await page.waitForFunction(
      (n) => /\b(\d+)\b/.exec(document.querySelector('.card .muted')?.textContent || '')?.[1] === String(n),
      N,
      { timeout: 120000, polling: 50 },
    );
    const done = Date.now();
    // The count can show a moment before the pull's own measure is taken (the index takes the
    // rows as the pull tells its changes, before it returns): wait for the measure to read it.
    await page.waitForFunction(() => performance.getEntriesByName('tongxin:pull', 'measure').length > 0, null, { timeout: 10000 });
    await page.waitForFunction(() => performance.getEntriesByName('tongxin:rows-complete', 'measure').length > 0, null, { timeout: 30000 });
    fromNavigation.push(done - navigated);
    fromSignIn.push(done - started);
    const measured = await page.evaluate((names) => names.map((n) =>
      performance.getEntriesByName(n, 'measure')[0]?.duration ?? -1), PARTS);
    PARTS.forEach((p, i) => parts[p].push(Math.round(measured[i])));
    await context.close();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`pull: ${N} cases (all fields + 2 timeline entries) into IndexedDB, ${RUNS} fresh browser profiles, signed in as ${READER}:`);
  console.log(`  navigation -> all stored and counted: median ${median(fromNavigation)} ms (all: ${fromNavigation.join(', ')} ms)`);
  console.log(`  sign-in click -> all stored and counted: median ${median(fromSignIn)} ms (all: ${fromSignIn.join(', ')} ms)`);
  for (const p of PARTS) {
    const when = p === 'tongxin:rows-complete' ? 'then, after the count showed,' : 'of which';
    console.log(`    ${when} ${p}: median ${median(parts[p])} ms (all: ${parts[p].join(', ')} ms)`);
  }
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
