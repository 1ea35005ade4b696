// The app shell: zh-CN by default, the language choice is remembered, and once loaded the app
// loads with NO server at all (the server process stopped and its port closed: served by the
// service worker, not by the HTTP cache or a still-running server), deep links included, and it
// works there (a case entered with the server gone reaches it once it is back). The first load
// becomes controlled by the worker without a reload (clients.claim). A new deploy that changes
// content-hashed assets is picked up on the next online load: the new files are served, the
// unchanged ones are not downloaded again, the old cache is deleted, and the new version loads
// with the server gone too.
//
// The browser talks to a plain pass-through proxy (faultproxy.mjs with no faults) on a fixed
// port: stopping it closes the origin's port, and a server restarted on the same data directory
// is reached again on the same origin (a port-0 server gets a new port on each start).

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  caseIdByTitle, copyDist, eventually, fillCase, launchBrowser, sel, serverCase, setupCity, signIn, startServer, waitAttr,
  waitControlled, waitFor, waitReady, waitText,
} from './harness.mjs';
import { startFaultProxy } from './faultproxy.mjs';

/** Every same-origin response of a page load that did not come from the service worker. */
function watchResponses(page, origin) {
  const seen = [];
  const failed = [];
  const onResponse = (r) => {
    const url = new URL(r.url());
    if (url.origin === origin) seen.push({ path: url.pathname, sw: r.fromServiceWorker(), status: r.status() });
  };
  const onFailed = (r) => {
    const url = new URL(r.url());
    if (url.origin === origin && !url.pathname.startsWith('/api/')) failed.push(url.pathname);
  };
  page.on('response', onResponse);
  page.on('requestfailed', onFailed);
  return {
    seen,
    failed,
    stop: () => {
      page.off('response', onResponse);
      page.off('requestfailed', onFailed);
    },
    /** Files of the app (not the API) answered by anything but the worker, or not at all. */
    notFromWorker: () => [...seen.filter((r) => !r.sw && !r.path.startsWith('/api/')), ...failed],
  };
}

/** `name.0123abcd.ext` with a new 8-hex content hash of `bytes`. */
function rehashed(name, bytes) {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 8);
  return name.replace(/\.[0-9a-f]{8}\.([a-z]+)$/, `.${hash}.$1`);
}

test('app shell: zh-CN default, remembered language, served by the worker with the server gone, updates', async (t) => {
  // A private copy of dist/, so the last step can deploy a "new version" into it.
  const dist = await copyDist(t);
  let server = await startServer(t, { dist });
  await setupCity(server);
  let gate = await startFaultProxy(t, server.url, { rate: 0 });
  const origin = gate.url;
  const port = Number(new URL(origin).port);
  const browser = await launchBrowser(t);
  const context = await browser.newContext();
  const page = await context.newPage();

  /** Stops the server process and closes the origin's port: nothing answers any more. */
  const serverGone = async () => {
    await gate.stop();
    await server.stop();
    const refused = await fetch(`${origin}/`).then(
      () => false,
      () => true,
    );
    assert.ok(refused, 'the origin refuses connections');
  };
  /** A new server process on the same data and app, reached on the same origin. */
  const serverBack = async () => {
    server = await startServer(t, { dist, dataDir: server.dataDir });
    gate = await startFaultProxy(t, server.url, { rate: 0, port });
  };

  await page.goto(`${origin}/`);
  await waitReady(page);
  await waitText(page, sel.title, '同心');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');

  await t.test('the first load is controlled by the worker without a reload (clients.claim)', async () => {
    const navigations = [];
    const onNav = (f) => f === page.mainFrame() && navigations.push(f.url());
    page.on('framenavigated', onNav);
    await waitControlled(page);
    page.off('framenavigated', onNav);
    assert.deepEqual(navigations, [], 'no reload or navigation happened while waiting');
  });

  // Not signed in: the app asks for it, in Chinese.
  await waitFor(page, 'the login form', () => document.querySelector('[data-testid=login-form]') !== null);
  await signIn(page, origin, 'wa');

  await t.test('language toggle switches to English and survives a reload', async () => {
    await page.locator(sel.langToggle).click();
    await waitText(page, sel.title, 'Tongxin');
    await waitFor(page, 'html lang=en', () => document.documentElement.lang === 'en');
    assert.equal(await page.evaluate(() => localStorage.getItem('tongxin.lang')), 'en');
    await page.reload();
    await waitReady(page);
    await waitText(page, sel.title, 'Tongxin');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
  });

  const title = '服务器停机时上报';
  await t.test('with the server stopped, a reload is served by the worker and the app works', async () => {
    await waitAttr(page, sel.badge, 'data-state', 'synced');
    await serverGone();
    // No `setOffline`: the browser believes it is online, only nothing answers.
    const watch = watchResponses(page, origin);
    await page.reload();
    await waitReady(page);
    await waitText(page, sel.title, 'Tongxin');
    await waitAttr(page, '[data-testid=whoami]', 'data-username', 'wa');
    watch.stop();
    assert.deepEqual(watch.notFromWorker(), [], 'every file of the shell came from the service worker');
    const paths = watch.seen.map((r) => r.path);
    assert.ok(paths.includes(new URL(page.url()).pathname), `the navigation itself was answered: ${paths}`);
    assert.ok(paths.some((p) => /^\/assets\/app\.[0-9a-f]{8}\.wasm$/.test(p)), `the app's wasm was loaded: ${paths}`);

    // … and works: a case entered now is stored on the device and waits.
    await page.goto(`${origin}/cases/new`);
    await waitReady(page);
    await fillCase(page, { title, description: '服务器不在时录入', category: 'infrastructure' });
    await waitText(page, sel.caseTitle, title);
    await waitAttr(page, sel.badge, 'data-waiting', '1');
  });

  await t.test('a deep link loads with the server gone (navigation falls back to the cached shell)', async () => {
    await page.goto(`${origin}/cases`);
    await waitReady(page);
    await waitText(page, sel.title, 'Tongxin');
    assert.equal(new URL(page.url()).pathname, '/cases');
    await caseIdByTitle(page, title);
  });

  await t.test('the server is back: the case entered while it was gone reaches it by itself', async () => {
    await serverBack();
    await serverCase(server, { title });
    await waitAttr(page, sel.badge, 'data-state', 'synced');
  });

  await t.test('a deploy with new hashed assets is served, the old cache deleted, and works with the server gone', async () => {
    // "Version 2": a changed stylesheet and boot script under new content hashes, the index
    // naming them, a worker with a new version and precache list. The wasm is unchanged.
    const swPath = path.join(dist, 'sw.js');
    const indexPath = path.join(dist, 'index.html');
    let sw = await readFile(swPath, 'utf8');
    let index = await readFile(indexPath, 'utf8');
    const oldVersion = sw.match(/const VERSION = '([^']+)'/)?.[1];
    assert.ok(oldVersion, 'dist/sw.js declares its VERSION');
    const newVersion = `${oldVersion}-v2`;
    const asset = (re) => index.match(re)?.[0] ?? assert.fail(`index.html names ${re}`);
    const oldCss = asset(/\/assets\/app\.[0-9a-f]{8}\.css/);
    const oldBoot = asset(/\/assets\/boot\.[0-9a-f]{8}\.js/);
    const wasm = asset(/\/assets\/app\.[0-9a-f]{8}\.wasm/);
    const css = `${await readFile(path.join(dist, oldCss), 'utf8')}\n:root { --tongxin-deploy: v2; }\n`;
    const boot = `document.documentElement.dataset.deploy = 'v2';\n${await readFile(path.join(dist, oldBoot), 'utf8')}`;
    const newCss = rehashed(oldCss, css);
    const newBoot = rehashed(oldBoot, boot);
    assert.notEqual(newCss, oldCss);
    assert.notEqual(newBoot, oldBoot);
    await writeFile(path.join(dist, newCss), css);
    await writeFile(path.join(dist, newBoot), boot);
    index = index.replaceAll(oldCss, newCss).replaceAll(oldBoot, newBoot);
    sw = sw
      .replace(`const VERSION = '${oldVersion}'`, `const VERSION = '${newVersion}'`)
      .replaceAll(`"${oldCss}"`, `"${newCss}"`)
      .replaceAll(`"${oldBoot}"`, `"${newBoot}"`);
    assert.ok(sw.includes(`"${newCss}"`) && sw.includes(`"${newBoot}"`), 'the v2 worker precaches the new files');
    await writeFile(indexPath, index);
    await writeFile(swPath, sw);
    // Last-Modified has one-second resolution: without this, a revalidation within the same
    // second as the first load would be answered 304 with the old file (a real deploy is never
    // that close to the previous load).
    const later = new Date(Date.now() + 60_000);
    await utimes(indexPath, later, later);
    await utimes(swPath, later, later);

    const fetched = (p) => gate.stats.paths[`GET ${p}`]?.exchanges ?? 0;
    const wasmBefore = fetched(wasm);
    await page.goto(`${origin}/`);
    await waitReady(page);
    // Navigations are network-first: the new index and its new boot script run at once.
    await waitFor(page, 'the v2 boot script', () => document.documentElement.dataset.deploy === 'v2');
    // The new worker installs (caching every file), claims the page, and only then drops the old
    // cache: once only the v2 cache is left, the v2 worker controls the page.
    await eventually(`exactly the v2 cache (tongxin-${newVersion})`, async () => {
      const keys = await page.evaluate(() => caches.keys());
      return keys.filter((k) => k.startsWith('tongxin-')).join() === `tongxin-${newVersion}`;
    });
    const cached = await page.evaluate(
      async (name) => (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname),
      `tongxin-${newVersion}`,
    );
    for (const p of [newCss, newBoot, wasm]) assert.ok(cached.includes(p), `the v2 cache holds ${p}`);
    for (const p of [oldCss, oldBoot]) assert.ok(!cached.includes(p), `the v2 cache dropped ${p}`);
    assert.ok(fetched(newCss) >= 1 && fetched(newBoot) >= 1, 'the changed files were downloaded');
    assert.equal(fetched(wasm), wasmBefore, 'the unchanged wasm was not downloaded again (copied from the old cache)');
    await eventually('the v2 worker controls the page', () =>
      page.evaluate(() => navigator.serviceWorker.controller?.state === 'activated'),
    );

    await serverGone();
    const watch = watchResponses(page, origin);
    await page.reload();
    await waitReady(page);
    await waitText(page, sel.title, 'Tongxin');
    watch.stop();
    assert.deepEqual(watch.notFromWorker(), [], 'every file came from the service worker');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.deploy), 'v2', 'the v2 boot script, from the v2 cache');
    assert.equal(
      await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--tongxin-deploy').trim()),
      'v2',
      'the v2 stylesheet, from the v2 cache',
    );
    const paths = watch.seen.map((r) => r.path);
    assert.ok(paths.includes(newCss) && paths.includes(newBoot), `the new files were served: ${paths}`);
    assert.ok(!paths.includes(oldCss) && !paths.includes(oldBoot), `no old file was asked for: ${paths}`);
  });
});
