// A case created offline is never lost: a signed-in warden goes offline, works, reloads and
// restarts the whole browser while still offline — still signed in (the session lives in
// IndexedDB), the case still there (the app itself is served by the service worker) — and it
// reaches the server by itself once the device is back online.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  caseIdByTitle, ensureControlled, fillCase, launchPersistent, sel, serverCase, setupCity, signIn, startServer, tempDir,
  waitAttr, waitReady,
} from './harness.mjs';
import { waitSynced } from './badge.mjs';

test('an op created offline survives reload and browser restart, then syncs', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const profile = await tempDir(t, 'profile');
  const title = '离线上报：路灯损坏';

  // First browser session: load online once (installs the service worker), then go offline.
  let context = await launchPersistent(profile);
  t.after(() => context.close().catch(() => {}));
  let page = context.pages()[0] ?? (await context.newPage());
  await signIn(page, server.url, 'wa');
  await ensureControlled(page);
  await waitSynced(page);

  await context.setOffline(true);
  await page.goto(`${server.url}/cases/new`);
  await waitReady(page);
  await fillCase(page, { title, description: '三号楼门口路灯不亮', category: 'infrastructure' });
  await waitAttr(page, sel.badge, 'data-waiting', '1');

  await page.goto(`${server.url}/cases`);
  await waitReady(page);
  const id = await caseIdByTitle(page, title);

  // Reload, still offline.
  await page.reload();
  await waitReady(page);
  assert.equal(await caseIdByTitle(page, title), id);
  await waitAttr(page, sel.badge, 'data-waiting', '1');

  // Close the whole browser, relaunch it on the same profile, still offline.
  await context.close();
  context = await launchPersistent(profile);
  await context.setOffline(true);
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${server.url}/cases`);
  await waitReady(page);
  await waitAttr(page, sel.net, 'data-online', 'false');
  assert.equal(await caseIdByTitle(page, title), id, 'the case survived the browser restart');
  await waitAttr(page, '[data-testid=whoami]', 'data-username', 'wa');
  await waitAttr(page, sel.badge, 'data-waiting', '1');

  // Back online: it is pushed by itself, and the server has it.
  await context.setOffline(false);
  await waitSynced(page);
  await waitAttr(page, sel.badge, 'data-waiting', '0');
  const record = await serverCase(server, { id, title });
  assert.equal(record.fields.category.value, 'infrastructure');
  await context.close();
});
