// Shared helpers for Tongxin's browser end-to-end tests.
//
// Each test file starts the REAL server binary (env TONGXIN_BIN) on a port-0 listener with a
// fresh data dir and the built app (env TONGXIN_DIST), and drives the Debian Chromium through
// playwright-core. Waits are on real DOM conditions (polled by Playwright), never fixed sleeps.

import { spawn } from 'node:child_process';
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
 * `dist` overrides the app directory (a test that simulates a new deploy serves a copy).
 */
export async function startServer(t, { dist = requiredEnv('TONGXIN_DIST') } = {}) {
  const bin = requiredEnv('TONGXIN_BIN');
  const dataDir = await tempDir(t, 'data');
  const child = spawn(bin, ['--addr', '127.0.0.1:0', '--data-dir', dataDir, '--dist-dir', dist], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-20000);
    if (process.env.TONGXIN_E2E_VERBOSE) process.stderr.write(chunk);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const url = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      reject(new Error(`server printed no listening line within 30 s\nstdout: ${stdout}\nstderr: ${stderr}`));
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
      reject(new Error(`server exited (${code ?? signal}) before listening\nstderr: ${stderr}`));
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
  return { url, dataDir, stop, stderr: () => stderr };
}

/** Launch headless Chromium; closed when the test ends. */
export async function launchBrowser(t) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  t.after(() => browser.close().catch(() => {}));
  return browser;
}

/** Launch Chromium with a persistent profile (`--user-data-dir`), so it can be closed and relaunched. */
export async function launchPersistent(userDataDir) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
  });
}

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
 * Make sure the service worker controls the page (so an offline reload is served by it):
 * wait for `navigator.serviceWorker.ready`, and reload once if the page is not yet controlled.
 */
export async function ensureControlled(page) {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
  if (!controlled) {
    await page.reload();
    await waitFor(page, 'service worker to control the page', () => navigator.serviceWorker.controller !== null);
  }
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

/** Fill the case form on the current page and save it. Fields left undefined are not touched. */
export async function fillCase(page, { title, description, category }) {
  if (title !== undefined) await page.locator('form [name=title]').fill(title);
  if (description !== undefined) await page.locator('form [name=description]').fill(description);
  if (category !== undefined) await page.locator('form [name=category]').selectOption(category);
  await page.locator(sel.save).click();
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

/** Pull every record from the server (following `more`), straight over HTTP. */
export async function pullAll(baseUrl) {
  const records = [];
  let cursor = 0;
  for (;;) {
    const res = await fetch(`${baseUrl}/api/v1/sync/pull?cursor=${cursor}&limit=500`, {
      headers: { 'x-tongxin-protocol': '1' },
    });
    if (!res.ok) throw new Error(`pull failed: ${res.status} ${await res.text()}`);
    const page = await res.json();
    records.push(...page.records);
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

/** The plain field values of a pulled record: `{ title: '…', … }`. */
export function fieldValues(record) {
  return Object.fromEntries(Object.entries(record.fields || {}).map(([k, v]) => [k, v.value]));
}

/** Wait until the server holds a case whose fields include `want` (a subset); returns the record. */
export function serverCase(baseUrl, want, what = JSON.stringify(want)) {
  return eventually(`the server to hold a case with ${what}`, async () => {
    const records = await pullAll(baseUrl);
    return records.find(
      (r) => r.collection === 'cases' && Object.entries(want).every(([k, v]) => (k === 'id' ? r.id === v : fieldValues(r)[k] === v)),
    );
  });
}
