// Shared helpers for Tongxin's browser end-to-end tests.
//
// Each test file starts the REAL server binary (env TONGXIN_BIN) on a port-0 listener with a
// fresh data dir and the built app (env TONGXIN_DIST), and drives the Debian Chromium through
// playwright-core. Waits are on real DOM conditions (polled by Playwright), never fixed sleeps.

import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.TONGXIN_CHROMIUM || '/usr/bin/chromium';
export const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
/** How long a DOM condition may take to become true (sync includes push → poke → pull). */
export const WAIT_MS = Number(process.env.TONGXIN_E2E_WAIT_MS || 30000);

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the suite through \`cargo xtask test\`, or set it by hand`);
  }
  if (!existsSync(value)) throw new Error(`${name}=${value} does not exist`);
  return value;
}

/** A private copy of the built app (env TONGXIN_DIST), for tests that change it. */
export async function copyDist(t) {
  const dir = await tempDir(t, 'dist');
  await cp(requiredEnv('TONGXIN_DIST'), dir, { recursive: true });
  return dir;
}

/** A fresh temporary directory, removed when the test ends. */
export async function tempDir(t, prefix) {
  const dir = await mkdtemp(path.join(tmpdir(), `tongxin-e2e-${prefix}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Start `tongxin --addr 127.0.0.1:0 --data-dir <fresh> --dist-dir <dist>`, wait for its
 * `tongxin listening on http://…` line, and stop it (SIGTERM, then SIGKILL) when the test ends.
 * `dist` overrides the app directory (a test that simulates a new deploy serves a copy);
 * `demo` seeds the demo city first (`demoMonths` of history, default none);
 * `dataDir` restarts on an earlier server's data; `args` are more options (`--deadlines …`).
 */
export async function startServer(
  t,
  {
    dist = requiredEnv('TONGXIN_DIST'),
    log = process.env.RUST_LOG || 'info',
    demo = false,
    demoMonths = 0,
    dataDir: reuse = undefined,
    args = [],
  } = {},
) {
  const bin = requiredEnv('TONGXIN_BIN');
  const dataDir = reuse ?? (await tempDir(t, 'data'));
  if (demo) {
    // The synthetic demo city's hierarchy and accounts (by default no history: fast), through
    // the real CLI.
    execFileSync(bin, ['demo-city', '--seed', '1', '--months', String(demoMonths), '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: 'warn' },
    });
  }
  const child = spawn(bin, ['--addr', '127.0.0.1:0', '--data-dir', dataDir, '--dist-dir', dist, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      RUST_LOG: log,
      TONGXIN_ADMIN_USER: ADMIN.username,
      TONGXIN_ADMIN_PASSWORD: ADMIN.password,
    },
  });
  // The whole log is kept: the accounts test searches it for personal data and tokens.
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (process.env.TONGXIN_E2E_VERBOSE) process.stderr.write(chunk);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const url = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      reject(new Error(`server printed no listening line within 30 s\nstdout: ${stdout}\nstderr: ${stderr.slice(-20000)}`));
    }, 30000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = stdout.match(/tongxin listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1].replace(/\/$/, ''));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening\nstderr: ${stderr.slice(-20000)}`));
    });
  });

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(killer);
  };
  t.after(stop);
  const adminToken = await login(url, ADMIN.username, ADMIN.password);
  return { url, dataDir, stop, stderr: () => stderr, adminToken };
}

/** The administrator every test server starts with (TONGXIN_ADMIN_USER / _PASSWORD). */
export const ADMIN = { username: 'root', password: 'root-password-e2e' };

/** Signs in over HTTP; returns the bearer token. */
export async function login(baseUrl, username, password) {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login of ${username} failed: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

/** An API call with a bearer token; throws with the server's message on an error status. */
export async function api(baseUrl, token, method, path, body) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-tongxin-protocol': '2' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Every user, through the admin API's pages (`GET /api/v1/admin/users`, 500 at a time), by
 * username; `query` adds parameters (`{ role: 'warden' }`). */
export async function allUsers(server, query = {}) {
  const users = [];
  for (;;) {
    const params = new URLSearchParams({ ...query, limit: '500', offset: String(users.length) });
    const page = await api(server.url, server.adminToken, 'GET', `/api/v1/admin/users?${params}`);
    users.push(...page.users);
    if (page.users.length === 0 || users.length >= page.total) return users;
  }
}

/** Fixed ids of the small test city (the last 12 hex digits tell what they are). */
export const CITY = {
  subdistrict: '00000000-0000-4000-8000-00000000005d',
  community: '00000000-0000-4000-8000-0000000000c1',
  otherCommunity: '00000000-0000-4000-8000-0000000000c2',
  g1: '00000000-0000-4000-8000-000000000061',
  g2: '00000000-0000-4000-8000-000000000062',
  g3: '00000000-0000-4000-8000-000000000063',
};

/** A grid's boundary: the 0.01° square with its south-west corner at (lon, lat). */
function rect(lon, lat) {
  const r = (x) => Math.round(x * 1e6) / 1e6;
  const [w, s, e, n] = [r(lon), r(lat), r(lon + 0.01), r(lat + 0.01)];
  return { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] };
}

/** Positions in the test city: inside G1, G3, outside every grid. */
export const SPOTS = {
  g1: { longitude: 100.205, latitude: 25.605 },
  g3: { longitude: 100.225, latitude: 25.605 },
  nowhere: { longitude: 100.5, latitude: 25.9 },
};

/** Everyone's password in the test city. */
export const PASSWORD = 'password-e2e';

/**
 * Writes a small city through the real API as the admin: one subdistrict, community C1 with
 * grids G1 and G2, community C2 with grid G3; and the accounts: wardens `wa` (G1) and `wb`
 * (G2), community manager `cm` (C1).
 */
export async function setupCity(server) {
  const now = Date.now();
  const hlc = (n) => `${String(now).padStart(15, '0')}-${String(n).padStart(6, '0')}`;
  const op = (n, collection, record, fields) => ({
    id: `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`,
    actor: '00000000-0000-4000-a000-000000000001',
    hlc: hlc(n),
    collection,
    record,
    body: { kind: 'set', fields },
    schema: 1,
  });
  const ops = [
    op(1, 'subdistricts', CITY.subdistrict, { name: '下关街道', code: 'S1' }),
    op(2, 'communities', CITY.community, { name: '一社区', code: 'C1', subdistrict: CITY.subdistrict }),
    op(3, 'communities', CITY.otherCommunity, { name: '二社区', code: 'C2', subdistrict: CITY.subdistrict }),
    op(4, 'grids', CITY.g1, { name: '第一网格', code: 'G1', community: CITY.community, boundary: rect(100.20, 25.60) }),
    op(5, 'grids', CITY.g2, { name: '第二网格', code: 'G2', community: CITY.community, boundary: rect(100.21, 25.60) }),
    op(6, 'grids', CITY.g3, { name: '第三网格', code: 'G3', community: CITY.otherCommunity, boundary: rect(100.22, 25.60) }),
  ];
  const pushed = await api(server.url, server.adminToken, 'POST', '/api/v1/sync/push', {
    protocol: 2,
    actor: '00000000-0000-4000-a000-000000000001',
    ops,
  });
  const refused = pushed.results.filter((r) => r.rejected);
  if (refused.length) throw new Error(`the test city was refused: ${JSON.stringify(refused)}`);
  const users = [
    { username: 'wa', display_name: '网格员甲', role: 'warden', grids: [CITY.g1] },
    { username: 'wb', display_name: '网格员乙', role: 'warden', grids: [CITY.g2] },
    { username: 'cm', display_name: '社区管理员', role: 'community_manager', communities: [CITY.community] },
  ];
  for (const u of users) {
    await api(server.url, server.adminToken, 'POST', '/api/v1/admin/users', { ...u, password: PASSWORD });
  }
}

/** Moves a user to other grids (admin API). */
export function setGrids(server, username, role, grids) {
  return api(server.url, server.adminToken, 'PUT', `/api/v1/admin/users/${username}`, {
    username,
    display_name: username,
    role,
    grids,
  });
}

/**
 * Signs in through the app's login form and waits for the signed-in shell. Returns when the
 * form was submitted and when the shell showed the user (`Date.now()`), for benches to time.
 */
export async function signIn(page, baseUrl, username, password = PASSWORD) {
  await page.goto(`${baseUrl}/login`);
  await waitReady(page);
  await page.locator('[data-testid=login-form] [name=username]').fill(username);
  await page.locator('[data-testid=login-form] [name=password]').fill(password);
  // Submitted from the keyboard (Enter in the password field), as most people do: a click
  // waits for the button to be "stable", which it is not while the field module arrives
  // and the shell re-renders around it.
  const submitted = Date.now();
  await page.locator('[data-testid=login-form] [name=password]').press('Enter');
  await waitAttr(page, '[data-testid=whoami]', 'data-username', username);
  return { submitted, signedIn: Date.now() };
}

/** Launch headless Chromium; closed when the test ends. */
export async function launchBrowser(t) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  t.after(() => browser.close().catch(() => {}));
  return browser;
}

/**
 * The common start of a browser test: a server on the test city, a fresh browser profile, and
 * `username` signed in on a page of it.
 */
export async function signedIn(t, username) {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, server.url, username);
  return { server, browser, context, page };
}

/** Launch Chromium with a persistent profile (`--user-data-dir`), so it can be closed and relaunched. */
export async function launchPersistent(userDataDir, options = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    ...options,
  });
}

/** The password of every demo account (`tongxin demo-city`). */
export const DEMO_PASSWORD = 'tongxin-demo';

/**
 * Wait until `predicate(arg)` is truthy in the page (polled by Playwright). On timeout the error
 * says what was awaited and shows the app's current DOM, which is what one needs to debug.
 */
export async function waitFor(page, what, predicate, arg, timeout = WAIT_MS) {
  try {
    return await page.waitForFunction(predicate, arg, { timeout, polling: 100 });
  } catch (err) {
    let dom = '';
    try {
      dom = await page.evaluate(() => (document.getElementById('app') || document.body).outerHTML.slice(0, 4000));
    } catch (_) {
      dom = '(page not reachable)';
    }
    throw new Error(`timed out waiting for ${what} on ${page.url()}: ${err.message}\nDOM: ${dom}`);
  }
}

/** Wait until the element matching `selector` has exactly `text` (trimmed). */
export function waitText(page, selector, text, timeout) {
  return waitFor(
    page,
    `${selector} to read ${JSON.stringify(text)}`,
    ([sel, want]) => document.querySelector(sel)?.textContent.trim() === want,
    [selector, text],
    timeout,
  );
}

/** Wait until the element matching `selector` has attribute `name` equal to `value`. */
export function waitAttr(page, selector, name, value, timeout) {
  return waitFor(
    page,
    `${selector}[${name}=${JSON.stringify(value)}]`,
    ([sel, attr, want]) => document.querySelector(sel)?.getAttribute(attr) === want,
    [selector, name, String(value)],
    timeout,
  );
}

/** The app has mounted. */
export function waitReady(page) {
  return waitAttr(page, '#app', 'data-ready', 'true');
}

/**
 * Wait until the service worker controls the page, WITHOUT reloading it: the worker's
 * `clients.claim()` on activation must take over the page that installed it. (A reload here
 * would hide a worker that never claims its first page.)
 */
// The worker registers only once the first screen is up (public/boot.js) and its install copies
// every precached file (the field module included), so on a loaded 2-core machine it can take
// well over 20 s: the deadline is generous, the wait ends as soon as the worker controls the page.
export async function waitControlled(page, timeout = 60000) {
  await waitFor(page, 'the service worker to be ready', () => navigator.serviceWorker.ready.then(() => true), undefined, timeout);
  await waitFor(
    page,
    'the service worker to control the page without a reload (clients.claim)',
    () => navigator.serviceWorker.controller !== null,
    undefined,
    timeout,
  );
}

/**
 * Takes the page's browser context offline once the service worker controls the page, as a
 * phone with the app installed goes offline: a navigation offline is then served by the worker.
 * (Signing in no longer reloads the page, so a test that navigated offline right after it could
 * beat the worker's install.)
 */
export async function goOffline(page) {
  await ensureControlled(page);
  await page.context().setOffline(true);
}

/**
 * Make sure the service worker controls the page (so an offline load is served by it): it must
 * take over the page by itself (`clients.claim()`); nothing is reloaded to force it.
 */
export async function ensureControlled(page) {
  await waitControlled(page);
  await waitReady(page);
}

export const sel = {
  title: '[data-testid=app-title]',
  langToggle: '[data-testid=lang-toggle]',
  net: '[data-testid=net-status]',
  badge: '[data-testid=sync-badge]',
  caseItem: '[data-testid=case-item]',
  caseTitle: '[data-testid=case-title]',
  caseDescription: '[data-testid=case-description]',
  caseCategory: '[data-testid=case-category]',
  save: '[data-testid=save]',
};

/**
 * Set a checkbox from the keyboard (focus, then Space), as a keyboard or screen-reader user does.
 * A pointer click first waits for the box to hold still over two animation frames, and on the
 * city map with its raster tiles headless Chromium's software raster was seen producing no frame
 * for seconds (0 animation frames in 3 s with nothing animating); the keyboard needs no frame.
 */
export async function setChecked(page, selector, checked) {
  const box = page.locator(selector);
  if ((await box.isChecked()) !== checked) {
    await box.focus();
    await page.keyboard.press('Space');
  }
  await waitFor(page, `${selector} ${checked ? 'checked' : 'unchecked'}`, ([s, c]) => document.querySelector(s)?.checked === c, [selector, checked]);
}

/** Wait until the case page shows the given title, description and category (those defined). */
export async function expectCase(page, { title, description, category }) {
  if (title !== undefined) await waitText(page, sel.caseTitle, title);
  if (description !== undefined) await waitText(page, sel.caseDescription, description);
  if (category !== undefined) await waitAttr(page, sel.caseCategory, 'data-value', category);
}

/**
 * Fill the case form on the current page and save it. Fields left undefined are not touched.
 * On a case's page the form opens on demand: its edit button is pressed first. Waits until the
 * case is stored, unless `refused` (a test of a save that must fail reads the form's error).
 */
export async function fillCase(page, { title, description, category }, { refused = false } = {}) {
  const edit = page.locator('[data-testid=edit-case]');
  await page.locator('form [name=title], [data-testid=edit-case]').first().waitFor();
  if (await edit.count()) await edit.click();
  if (title !== undefined) await page.locator('form [name=title]').fill(title);
  if (description !== undefined) await page.locator('form [name=description]').fill(description);
  if (category !== undefined) await page.locator('form [name=category]').selectOption(category);
  await page.locator(sel.save).click();
  if (refused) return;
  // The save is written to IndexedDB asynchronously; a test that navigates before it has
  // finished aborts the write (as a person would not: the form closes, or a new case opens on
  // its own page, once it is stored). Wait for that, and fail with the form's own error.
  const outcome = await waitFor(page, 'the case form to save', () => {
    const form = document.querySelector('[data-testid=case-form]');
    if (!form) return 'saved';
    const err = form.querySelector('.field-error');
    return err ? `error: ${err.textContent}` : null;
  });
  const result = await outcome.jsonValue();
  if (result !== 'saved') throw new Error(`the case form did not save: ${result}`);
}

/** The id (`data-id`) of the case list item whose text contains `title`, once it is listed. */
export async function caseIdByTitle(page, title) {
  const handle = await waitFor(
    page,
    `a case item titled ${JSON.stringify(title)}`,
    ([itemSel, want]) =>
      [...document.querySelectorAll(itemSel)].find((el) => el.textContent.includes(want))?.getAttribute('data-id') ||
      null,
    [sel.caseItem, title],
  );
  return handle.jsonValue();
}

/** Pull every record the token may see (the admin's: all) from the server, over HTTP. */
export async function pullAll(server, token = server.adminToken) {
  const records = [];
  let cursor = 0;
  for (;;) {
    const res = await fetch(`${server.url}/api/v1/sync/pull?cursor=${cursor}&limit=500`, {
      headers: { 'x-tongxin-protocol': '2', authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`pull failed: ${res.status} ${await res.text()}`);
    const page = await res.json();
    records.push(...page.records.map(readable));
    cursor = page.cursor;
    if (!page.more) return records;
  }
}

/**
 * Poll `check()` (every 100 ms) until it returns a truthy value, and return that value; fail
 * after `timeout` with `what`. For conditions outside the page (e.g. what the server holds).
 */
export async function eventually(what, check, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A record in the readable shape (`{ seq?, collection, id, fields: { f: { value, stamp: { hlc,
 * actor } } }, log }`) from its compact encoding (`shared/src/compact.rs`: `c`, `i`, the actor
 * table `a`, the stamp table `s` of `[wall_ms, counter, actor]`, fields `f` and log `l` as
 * `[value, stamp index]`). A record already readable is returned as it is.
 */
export function readable(r) {
  if (!('c' in r)) return r;
  const stamp = (i) => {
    const [wall, counter, actor] = r.s[i];
    return { hlc: `${String(wall).padStart(15, '0')}-${String(counter).padStart(6, '0')}`, actor: r.a[actor] };
  };
  const entries = (o, f) => Object.fromEntries(Object.entries(o || {}).map(([k, [v, i]]) => [k, f(v, stamp(i))]));
  const out = {
    collection: r.c,
    id: r.i,
    fields: entries(r.f, (value, s) => ({ value, stamp: s })),
    log: entries(r.l, (data, s) => ({ stamp: s, data })),
  };
  if ('seq' in r) out.seq = r.seq;
  return out;
}

/** The plain field values of a pulled record: `{ title: '…', … }`. */
export function fieldValues(record) {
  return Object.fromEntries(Object.entries(record.fields || {}).map(([k, v]) => [k, v.value]));
}

/** Wait until the server holds a case whose fields include `want` (a subset); returns the record. */
export function serverCase(server, want, what = JSON.stringify(want)) {
  return eventually(`the server to hold a case with ${what}`, async () => {
    const records = await pullAll(server);
    return records.find(
      (r) => r.collection === 'cases' && Object.entries(want).every(([k, v]) => (k === 'id' ? r.id === v : fieldValues(r)[k] === v)),
    );
  });
}

/** A generated test picture (PNG bytes) of `w`×`h`, drawn in the page. */
export async function picture(page, w, h, seed) {
  const base64 = await page.evaluate(async ([w, h, seed]) => {
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d');
    const g = ctx.createLinearGradient(0, 0, w, h);
    g.addColorStop(0, `hsl(${seed * 40}, 70%, 50%)`);
    g.addColorStop(1, `hsl(${seed * 40 + 180}, 70%, 40%)`);
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, w, h);
    for (let i = 0; i < 300; i++) {
      ctx.fillStyle = `hsla(${(i * 37 + seed * 11) % 360}, 80%, 60%, 0.6)`;
      ctx.fillRect((i * 97) % w, (i * 53) % h, 40 + (i % 90), 30 + (i % 70));
    }
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, [w, h, seed]);
  return Buffer.from(base64, 'base64');
}
