// Photos (issue 6): taken offline, resized in the browser to ≤1600 px JPEG (≈≤300 KB), kept in
// IndexedDB by their SHA-256 and shown "waiting to upload"; a non-image is refused with a clear
// message; back online they are uploaded by themselves before the case that names them, and
// another user's device shows them from the server.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  fieldValues, launchBrowser, picture, sel, serverCase, setupCity, signIn, startServer, waitAttr, waitFor, waitReady,
  waitText, goOffline
} from './harness.mjs';
import { waitSynced } from './badge.mjs';

test('photos: offline, resized, pending, uploaded by themselves, seen by the manager', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const warden = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  const manager = await (await browser.newContext()).newPage();
  await signIn(warden, server.url, 'wa');
  await signIn(manager, server.url, 'cm');
  await waitSynced(warden);
  const big = await picture(warden, 4000, 3000, 1);
  const small = await picture(warden, 800, 600, 2);

  await goOffline(warden);
  await warden.goto(`${server.url}/cases/new`);
  await waitReady(warden);
  const input = warden.locator('form input[name=photos]');
  // A non-image is refused next to the field; nothing else changes.
  await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
  await waitFor(warden, 'the not-an-image message', () => document.querySelector('[data-testid=photo-error]')?.textContent.includes('notes.txt'));
  await input.setInputFiles([
    { name: 'big.png', mimeType: 'image/png', buffer: big },
    { name: 'small.png', mimeType: 'image/png', buffer: small },
  ]);
  await waitFor(warden, 'two photos in the form', () => document.querySelectorAll('form [data-testid=photo]').length === 2);
  await warden.locator('form [name=title]').fill('井盖缺失（带照片）');
  await warden.locator('form [name=category]').selectOption('safety');
  await warden.locator(sel.save).click();
  await waitText(warden, sel.caseTitle, '井盖缺失（带照片）');
  await waitFor(
    warden,
    'two pending photos on the case',
    () => [...document.querySelectorAll('.gallery [data-testid=photo]')].filter((p) => p.dataset.pending === 'true').length === 2,
  );
  const shas = await warden.evaluate(() => [...document.querySelectorAll('.gallery [data-testid=photo]')].map((p) => p.dataset.sha));

  // Online: uploaded with no tap; the case on the server names both photos.
  await warden.context().setOffline(false);
  await waitSynced(warden);
  await waitFor(
    warden,
    'the photos uploaded',
    () => [...document.querySelectorAll('.gallery [data-testid=photo]')].every((p) => p.dataset.pending === 'false'),
  );
  const record = await serverCase(server, { title: '井盖缺失（带照片）' });
  assert.deepEqual([...fieldValues(record).photos].sort(), [...shas].sort());
  const sizes = [];
  for (const sha of shas) {
    const res = await fetch(`${server.url}/api/v1/blobs/${sha}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.ok(bytes.length <= 300 * 1024, `stored photo is ${bytes.length} bytes`);
    // JPEG dimensions from the SOF0/SOF2 marker: the long side is at most 1600 px.
    let i = 2;
    let size = null;
    while (i < bytes.length) {
      const marker = bytes[i + 1];
      const len = bytes.readUInt16BE(i + 2);
      if (marker === 0xc0 || marker === 0xc2) {
        size = { h: bytes.readUInt16BE(i + 5), w: bytes.readUInt16BE(i + 7) };
        break;
      }
      i += 2 + len;
    }
    assert.ok(size && Math.max(size.w, size.h) <= 1600, `photo is ${JSON.stringify(size)}`);
    sizes.push(`${size.w}x${size.h}`);
  }
  // 4000×3000 was scaled to 1600×1200; 800×600 kept its size.
  assert.deepEqual(sizes.sort(), ['1600x1200', '800x600']);

  // The manager's device shows them, from the server.
  await manager.goto(`${server.url}/cases/${record.id}`);
  await waitReady(manager);
  await waitFor(
    manager,
    'both photos loaded from the server',
    () => {
      const imgs = [...document.querySelectorAll('.gallery [data-testid=photo] img')];
      return imgs.length === 2 && imgs.every((img) => img.complete && img.naturalWidth > 0);
    },
  );
});
