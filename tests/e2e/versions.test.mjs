// Two versions of the app at once (a deploy while a user has tabs open): when another tab
// upgrades or deletes the local database, this tab's connection lets go at once and the tab
// reloads (into the new version), so the other tab is never left waiting ("blocked").
// Deleting the database from another tab stands in for a newer version's upgrade: both send
// this tab's connection the same `versionchange` event.

import test from 'node:test';
import assert from 'node:assert/strict';
import { signedIn, waitAttr, waitReady } from './harness.mjs';
import { waitSynced } from './badge.mjs';

test('another tab changing the local database is not blocked: this tab lets go and reloads', async (t) => {
  const { server, context, page } = await signedIn(t, 'wa');
  await waitSynced(page);
  await page.evaluate(() => {
    window.tongxinBeforeReload = true;
  });

  // Another tab of the same origin asks for the database while this one holds it.
  const other = await context.newPage();
  await other.goto(`${server.url}/manifest.webmanifest`);
  const reloaded = page.waitForEvent('load');
  const outcome = await other.evaluate(
    (name) =>
      new Promise((resolve) => {
        const r = indexedDB.deleteDatabase(name);
        r.onblocked = () => resolve('blocked');
        r.onsuccess = () => resolve('deleted');
        r.onerror = () => resolve(`error: ${r.error}`);
      }),
    'tongxin-data-wa',
  );
  assert.equal(outcome, 'deleted', 'the other tab was not blocked by this one');

  // This tab reloaded, is still signed in (the session has its own database) and pulls again.
  await reloaded;
  await waitReady(page);
  assert.equal(await page.evaluate(() => window.tongxinBeforeReload), undefined);
  await waitAttr(page, '[data-testid=whoami]', 'data-username', 'wa');
  await waitSynced(page);
});
