// The split modules (issue 13). The field screens (everything behind the sign-in) are a module of
// their own: a first load fetches it only once the sign-in is usable, while the password is typed,
// and after one online visit every field screen opens with the server stopped. The managers'
// screens load on first use: a warden's first load does not fetch them (nor does the service
// worker), a manager's first visit prefetches them, and every manager screen opened once online
// opens again with the server stopped. A screen never opened online says so offline (no crash, no
// blank page) and loads on retry once the network is back.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ADMIN, ensureControlled, eventually, launchBrowser, setupCity, signIn, signedIn, startServer, waitAttr, waitFor,
  waitReady,
} from './harness.mjs';

/** The lazy modules of the build under test, as the service worker lists them. */
async function lazyModules() {
  const sw = await readFile(path.join(process.env.TONGXIN_DIST, 'sw.js'), 'utf8');
  const line = sw.split('\n').find((l) => l.startsWith('const LAZY = '));
  assert.ok(line, 'dist/sw.js lists the lazy modules');
  const list = JSON.parse(line.slice('const LAZY = '.length).replace(/;$/, ''));
  assert.ok(list.length >= 3, `one module per manager screen at least: ${list}`);
  return list;
}

/** The field screens' modules (the `field` split and the chunks it needs), precached with the shell. */
async function fieldModules() {
  const sw = await readFile(path.join(process.env.TONGXIN_DIST, 'sw.js'), 'utf8');
  const line = sw.split('\n').find((l) => l.startsWith('const PRECACHE = '));
  assert.ok(line, 'dist/sw.js lists the precached shell');
  const list = JSON.parse(line.slice('const PRECACHE = '.length).replace(/;$/, '')).filter((u) => /^\/assets\/(split|chunk)_/.test(u));
  assert.ok(list.some((u) => /^\/assets\/split_field\.[0-9a-f]{8}\.wasm$/.test(u)), `the field module is precached: ${list}`);
  return list;
}

/** Every URL this page fetched (resource timing) and every URL in any of its origin's caches. */
function fetchedAndCached(page) {
  return page.evaluate(async () => {
    const fetched = performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname);
    const cached = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) cached.push(new URL(request.url).pathname);
    }
    return { fetched, cached };
  });
}

/** Each manager screen, and an element that only the loaded screen renders. */
const SCREENS = [
  { path: '/map', ready: '[data-testid=map]' },
  { path: '/dashboard', ready: '[data-testid=export-dashboard]' },
  { path: '/admin', ready: '[data-testid=grid-import]' },
];

async function openScreen(page, url, screen) {
  await page.goto(`${url}${screen.path}`);
  await waitReady(page);
  await waitFor(page, `the ${screen.path} screen`, (s) => document.querySelector(s) !== null, screen.ready);
  assert.equal(await page.locator('[data-testid=screen-unavailable]').count(), 0);
}

test('a warden does not load the manager modules; a manager prefetches them', async (t) => {
  const lazy = await lazyModules();
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);

  const warden = await (await browser.newContext()).newPage();
  await signIn(warden, server.url, 'wa');
  await ensureControlled(warden);
  await warden.goto(`${server.url}/cases`);
  await waitReady(warden);
  await waitAttr(warden, '[data-testid=sync-badge]', 'data-state', 'synced');

  // The control: a manager signed in after the warden gets every module of their screens
  // prefetched into the service worker's cache, without opening any of them.
  const manager = await (await browser.newContext()).newPage();
  await signIn(manager, server.url, 'cm');
  await ensureControlled(manager);
  const managerModules = lazy.filter((u) => /\/split_(map|dashboard)\./.test(u));
  assert.equal(managerModules.length, 2, `a map and a dashboard module: ${lazy}`);
  await eventually('the manager\'s modules prefetched and cached', async () => {
    const { cached } = await fetchedAndCached(manager);
    return managerModules.every((u) => cached.includes(u));
  });
  assert.equal(await manager.locator('[data-testid=map]').count(), 0, 'no screen was opened');

  // The warden (signed in longer than the manager) fetched none, and none is cached.
  const { fetched, cached } = await fetchedAndCached(warden);
  assert.ok(fetched.some((u) => /^\/assets\/app\.[0-9a-f]{8}\.wasm$/.test(u)) || cached.some((u) => /^\/assets\/app\./.test(u)),
    'the check sees the main module');
  for (const url of lazy) {
    assert.ok(!fetched.includes(url), `the warden's page fetched ${url}`);
    assert.ok(!cached.includes(url), `the warden's service worker cached ${url}`);
  }
});

test('every manager screen opened once online opens with the server stopped', async (t) => {
  const server = await startServer(t);
  const browser = await launchBrowser(t);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signIn(page, server.url, ADMIN.username, ADMIN.password);
  await ensureControlled(page);
  for (const screen of SCREENS) await openScreen(page, server.url, screen);

  // No network at all: the server is gone, not only the browser's link.
  await server.stop();
  for (const screen of SCREENS) await openScreen(page, server.url, screen);
});

test('a screen never opened online says so offline, and loads on retry', async (t) => {
  // A warden: nothing is prefetched, and /admin is not in their navigation.
  const { server, context, page } = await signedIn(t, 'wa');
  await ensureControlled(page);
  await context.setOffline(true);
  await page.goto(`${server.url}/admin`);
  await waitReady(page);
  await waitFor(page, 'the screen-unavailable message', () => document.querySelector('[data-testid=screen-unavailable]') !== null);
  // The app is alive: the shell answers.
  await waitAttr(page, '[data-testid=net-status]', 'data-online', 'false');

  await context.setOffline(false);
  await page.locator('[data-testid=screen-unavailable] button').click();
  // The admin module loads; for a warden it only says the screen is not theirs.
  await waitFor(page, 'the admin module', () => document.querySelector('[data-testid=admin-forbidden]') !== null);
  assert.equal(await page.locator('[data-testid=screen-unavailable]').count(), 0);
});

/** Each field screen, and an element that only the loaded screen renders. */
const FIELD_SCREENS = [
  { path: '/', ready: '[data-testid=today]' },
  { path: '/cases', ready: 'form.filters' },
  { path: '/cases/new', ready: 'form [name=title]' },
  { path: '/visits', ready: '[data-testid=visit-item]' },
  { path: '/visits/new', ready: '[data-testid=visit-form]' },
  { path: '/activities', ready: 'a[href="/activities/new"], [data-testid=activity-item]' },
  { path: '/activities/new', ready: '[data-testid=activity-form]' },
];

test('a first load fetches the field screens only after the sign-in is usable; offline after one visit', async (t) => {
  const field = await fieldModules();
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  // The moment the sign-in became usable (its button in the page and enabled), on the page's
  // clock: a mutation observer's callback runs before any task the app could start after it.
  await page.addInitScript(() => {
    const usable = () => {
      const button = document.querySelector('[data-testid=login-submit]');
      if (button && !button.disabled && window.__signInUsableAt === undefined) {
        window.__signInUsableAt = performance.now();
      }
    };
    new MutationObserver(usable).observe(document, { subtree: true, childList: true, attributes: true });
  });

  await page.goto(`${server.url}/`);
  await waitReady(page);
  await waitFor(page, 'the sign-in', () => window.__signInUsableAt !== undefined);
  // Nobody signed in yet: the field module is fetched in the background (the prefetch), and every
  // byte of it was asked for after the sign-in was usable.
  const timing = await eventually('the field modules prefetched', () =>
    page.evaluate((urls) => {
      const entries = performance.getEntriesByType('resource').map((e) => ({ url: new URL(e.name).pathname, start: e.startTime }));
      const fetched = entries.filter((e) => urls.includes(e.url));
      return fetched.length === urls.length ? { fetched, entries, usableAt: window.__signInUsableAt } : null;
    }, field));
  for (const { url, start } of timing.fetched) {
    assert.ok(start >= timing.usableAt, `${url} was requested at ${start} ms, before the sign-in was usable at ${timing.usableAt} ms`);
  }
  const main = timing.entries.find((e) => /^\/assets\/app\.[0-9a-f]{8}\.wasm$/.test(e.url));
  assert.ok(main && main.start < timing.usableAt, 'the check sees the main module, fetched before the sign-in');

  // One online visit: signed in, the service worker has precached the field modules.
  await signIn(page, server.url, 'wa');
  await ensureControlled(page);
  await waitAttr(page, '[data-testid=sync-badge]', 'data-state', 'synced');
  const { cached } = await fetchedAndCached(page);
  for (const url of field) assert.ok(cached.includes(url), `the service worker cached ${url}`);
  // A visit, so that the visit list has an item to show offline.
  await page.goto(`${server.url}/visits/new`);
  await waitReady(page);
  await page.locator('[data-testid=visit-form] [name=notes]').fill('一切正常');
  await page.locator('[data-testid=save]').click();
  await waitFor(page, 'the visit listed', () => document.querySelector('[data-testid=visit-item]') !== null);

  // No network at all: the server is gone. A reload and every field screen come from the cache.
  await server.stop();
  await page.reload();
  await waitReady(page);
  await waitAttr(page, '[data-testid=whoami]', 'data-username', 'wa');
  for (const screen of FIELD_SCREENS) {
    await page.goto(`${server.url}${screen.path}`);
    await waitReady(page);
    await waitFor(page, `the ${screen.path} screen offline`, (s) => document.querySelector(s) !== null, screen.ready);
    assert.equal(await page.locator('[data-testid=screen-unavailable]').count(), 0, `${screen.path} loaded`);
  }
});
