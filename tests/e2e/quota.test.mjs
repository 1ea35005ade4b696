// A full device while offline (issue 15, "Full disk", the device side). A warden offline keeps
// entering work when the phone's storage is full: the browser profile lives on a small tmpfs
// mounted by the test (as root), and files take every free byte of it. (CDP
// `Storage.overrideQuotaForOrigin` was tried first: Chromium 156 reports the override through
// `Storage.getUsageAndQuota`, but neither `navigator.storage.estimate()` nor IndexedDB writes
// follow it, so a real full disk it is. Chromium then fails a write with "UnknownError …
// FILE_ERROR_NO_SPACE" and closes the connection, or a large value with "DataError: Failed to
// write blobs", and cannot open the database again until there is space.)
//
// The warden is told in plain words (the locale's message, not the browser's), what they typed
// stays in the form, nothing stored before is lost (outbox and records read back the same once
// space is freed, and after a reload), the same form saves without a reload (the app opens its
// database again by itself), and everything reaches the server.
//
// Not covered: a browser RESTART after a full disk. Chromium 156 was seen to lose writes
// committed after the space came back (and once the app's whole database) on the next start —
// reproduced with a plain page and no app code; see RELIABILITY.md.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  caseIdByTitle, ensureControlled, fillCase, launchPersistent, picture, sel, serverCase, setupCity, signIn, startServer,
  waitAttr, waitFor, waitReady, waitText,
} from './harness.mjs';
import { waitSynced } from './badge.mjs';
import { deviceState } from './lossy_day.mjs';

const zh = JSON.parse(await readFile(new URL('../../app/locales/zh-CN.json', import.meta.url), 'utf8'));
const isRoot = process.getuid?.() === 0;

/** Waits for an alert on the page reading exactly `text`. */
function alertSays(page, text, what) {
  return waitFor(
    page,
    what,
    (want) => [...document.querySelectorAll('[role=alert]')].some((e) => e.textContent.trim() === want),
    text,
  );
}

/** The device's outbox op ids and its records, for comparing before and after. */
function stored(state) {
  return {
    outbox: state.outbox.map((op) => op.id).sort(),
    records: Object.fromEntries(state.records.map((r) => [`${r.collection}/${r.id}`, JSON.stringify(r)])),
  };
}

/** A size-limited tmpfs at a fresh directory, unmounted and removed when the test ends. */
async function smallDisk(t, mb) {
  const dir = await mkdtemp(path.join(tmpdir(), 'tongxin-e2e-disk-'));
  let keeper;
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m,mode=0700`, 'tmpfs', dir]);
  t.after(async () => {
    clearInterval(keeper);
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  const fillers = [path.join(dir, 'filler-1'), path.join(dir, 'filler-2')];
  const chunk = Buffer.alloc(4096);
  /** Appends to the second filler until the disk refuses. */
  const topUp = () => {
    try {
      for (;;) appendFileSync(fillers[1], chunk);
    } catch (_) {
      // ENOSPC: full again.
    }
  };
  return {
    dir,
    /**
     * Takes every free byte, and keeps taking what the browser frees (it evicts its own caches
     * when the disk is full), as another app filling the phone would.
     */
    async fill() {
      const { bavail, bsize } = await statfs(dir);
      execFileSync('fallocate', ['-l', String(Math.max(0, bavail * bsize - (1 << 20))), fillers[0]]);
      topUp();
      assert.equal((await statfs(dir)).bavail, 0, 'the disk is full');
      keeper = setInterval(topUp, 10);
    },
    /** Frees the space again. */
    async free() {
      clearInterval(keeper);
      await Promise.all(fillers.map((f) => rm(f, { force: true })));
    },
  };
}

test('a full device offline: the warden is told, nothing stored is lost, entry resumes with space', { skip: !isRoot && process.env.CI !== 'true' && 'mounting a small tmpfs needs root' }, async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const origin = server.url;
  const disk = await smallDisk(t, 256);
  const profile = path.join(disk.dir, 'profile');
  const phone = { viewport: { width: 390, height: 844 } };
  const context = await launchPersistent(profile, phone);
  t.after(() => context.close().catch(() => {}));
  const page = context.pages()[0] ?? (await context.newPage());
  await signIn(page, origin, 'wa');
  await ensureControlled(page);
  await waitSynced(page);

  await context.setOffline(true);
  await waitAttr(page, sel.net, 'data-online', 'false');
  // One case saved while there is room.
  const first = { title: '空间充足时记录', description: '一号楼', category: 'infrastructure' };
  await page.goto(`${origin}/cases/new`);
  await waitReady(page);
  await fillCase(page, first);
  await waitText(page, sel.caseTitle, first.title);
  await waitAttr(page, sel.badge, 'data-waiting', '1');
  const before = stored(await deviceState(page, 'wa'));
  assert.equal(before.outbox.length, 2, 'the case and its first timeline entry wait');

  // A long description: the write needs new pages of the disk (a few hundred bytes may still fit
  // in the slack of the database's last page).
  const second = { title: '空间已满时记录', description: '二号楼'.repeat(1000), category: 'environment' };
  await t.test('with the disk full, saving says so plainly and keeps what was typed', async () => {
    await page.goto(`${origin}/cases/new`);
    await waitReady(page);
    await disk.fill();
    await fillCase(page, second, { refused: true });
    await alertSays(page, zh['error.storage_full'], 'the storage-full message on the form');
    assert.equal(new URL(page.url()).pathname, '/cases/new', 'still on the form');
    assert.equal(await page.locator('form [name=title]').inputValue(), second.title);
    assert.equal(await page.locator('form [name=description]').inputValue(), second.description);
    await waitAttr(page, sel.badge, 'data-waiting', '1');

    // A photo does not fit either: told, and the form goes on.
    const png = await picture(page, 800, 600, 3);
    await page.locator('form input[name=photos]').setInputFiles({ name: 'p.png', mimeType: 'image/png', buffer: png });
    await alertSays(page, zh['photo.error.quota'], 'the photo storage-full message');
  });

  await t.test('space freed: nothing stored was lost, and the same form saves without a reload', async () => {
    await disk.free();
    assert.deepEqual(stored(await deviceState(page, 'wa')), before, 'outbox and records as before the disk filled');
    await page.locator(sel.save).click();
    await waitText(page, sel.caseTitle, second.title);
    await waitAttr(page, sel.badge, 'data-waiting', '2');
  });

  await t.test('a reload loses nothing', async () => {
    const all = stored(await deviceState(page, 'wa'));
    assert.equal(all.outbox.length, 4);
    for (const id of before.outbox) assert.ok(all.outbox.includes(id), `op ${id} still waits`);
    for (const [key, value] of Object.entries(before.records)) assert.equal(all.records[key], value, `${key} unchanged`);
    await page.goto(`${origin}/cases`);
    await waitReady(page);
    await page.reload();
    await waitReady(page);
    await caseIdByTitle(page, first.title);
    await caseIdByTitle(page, second.title);
    await waitAttr(page, sel.badge, 'data-waiting', '2');
    assert.deepEqual(stored(await deviceState(page, 'wa')), all, 'outbox and records intact');
  });

  await t.test('online: everything reaches the server', async () => {
    await context.setOffline(false);
    await serverCase(server, first);
    await serverCase(server, second);
    await waitSynced(page);
    await waitAttr(page, sel.badge, 'data-waiting', '0');
    await waitAttr(page, sel.badge, 'data-rejected', '0');
  });
});
