// The app shell: zh-CN by default, the language choice is remembered, and once loaded the app
// reloads with no network at all (served by the service worker), deep links included. A new
// deploy is picked up on the next online load and the updated app works offline too.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ADMIN, copyDist, ensureControlled, eventually, launchBrowser, sel, signIn, startServer, waitAttr, waitFor, waitReady,
  waitText,
} from './harness.mjs';

test('app shell: zh-CN default, remembered language, offline reload, updates', async (t) => {
  // A private copy of dist/, so the last step can deploy a "new version" into it.
  const dist = await copyDist(t);
  const server = await startServer(t, { dist });
  const browser = await launchBrowser(t);
  const context = await browser.newContext();
  const page = await context.newPage();

  await page.goto(`${server.url}/`);
  await waitReady(page);
  await waitText(page, sel.title, '同心');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  // Not signed in: the app asks for it, in Chinese.
  await waitFor(page, 'the login form', () => document.querySelector('[data-testid=login-form]') !== null);
  await signIn(page, server.url, ADMIN.username, ADMIN.password);

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

  await t.test('offline reload is served by the service worker', async () => {
    await ensureControlled(page);
    await waitAttr(page, sel.net, 'data-online', 'true');
    await context.setOffline(true);
    await page.reload();
    await waitReady(page);
    await waitText(page, sel.title, 'Tongxin');
    await waitAttr(page, sel.net, 'data-online', 'false');
  });

  await t.test('a deep link loads offline (navigation falls back to the cached shell)', async () => {
    await page.goto(`${server.url}/cases`);
    await waitReady(page);
    await waitText(page, sel.title, 'Tongxin');
    assert.equal(new URL(page.url()).pathname, '/cases');
  });

  await t.test('a new deploy is picked up online, then works offline', async () => {
    // Deploy "version 2": a changed index.html and a service worker with a new version.
    const swPath = path.join(dist, 'sw.js');
    const sw = await readFile(swPath, 'utf8');
    const oldVersion = sw.match(/const VERSION = '([^']+)'/)?.[1];
    assert.ok(oldVersion, 'dist/sw.js declares its VERSION');
    const newVersion = `${oldVersion}-v2`;
    const indexPath = path.join(dist, 'index.html');
    const index = await readFile(indexPath, 'utf8');
    await writeFile(indexPath, index.replace('</head>', '<meta name="tongxin-deploy" content="v2">\n</head>'));
    await writeFile(swPath, sw.replace(`const VERSION = '${oldVersion}'`, `const VERSION = '${newVersion}'`));
    // Last-Modified has one-second resolution: without this, a revalidation within the same
    // second as the first load would be answered 304 with the old file (a real deploy is never
    // that close to the previous load).
    const later = new Date(Date.now() + 60_000);
    await utimes(indexPath, later, later);
    await utimes(swPath, later, later);

    await context.setOffline(false);
    await page.goto(`${server.url}/`);
    await waitReady(page);
    // Navigations are network-first: the new index.html shows at once.
    await waitFor(page, 'the v2 index.html', () => document.querySelector('meta[name=tongxin-deploy]') !== null);
    // The new worker installs (caching every file), claims the page, and only then drops the old
    // cache: once only the v2 cache is left, the v2 worker controls the page.
    await eventually(`exactly the v2 cache (tongxin-${newVersion})`, async () => {
      const keys = await page.evaluate(() => caches.keys());
      return keys.filter((k) => k.startsWith('tongxin-')).join() === `tongxin-${newVersion}`;
    });
    await context.setOffline(true);
    await page.reload();
    await waitReady(page);
    await waitText(page, sel.title, 'Tongxin');
    assert.equal(
      await page.evaluate(() => document.querySelector('meta[name=tongxin-deploy]')?.content),
      'v2',
      'offline, the shell comes from the v2 cache',
    );
    await context.setOffline(false);
  });
});
