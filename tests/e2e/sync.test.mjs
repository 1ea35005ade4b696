// Two devices of one warden, one case (issue 4): A edits offline (title, category), B edits online
// (description, category, after A). When A reconnects, with no user action, both devices show
// A's title, B's description and the same category — B's, whose edit carries the later HLC.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  caseIdByTitle, fillCase, launchBrowser, sel, serverCase, setupCity, signIn, startServer, waitAttr, waitFor, waitReady,
  waitText,
  expectCase,
} from './harness.mjs';
import { waitSynced } from './badge.mjs';

test('two devices converge after one edits offline and the other online', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  await signIn(a, server.url, 'wa');
  await signIn(b, server.url, 'wa');

  // A creates case R online; it reaches the server by itself.
  const original = { title: '楼道堆物 R', description: '原始描述', category: 'environment' };
  await a.goto(`${server.url}/cases/new`);
  await waitReady(a);
  await fillCase(a, original);
  const { id } = await serverCase(server, original);
  await a.goto(`${server.url}/cases`);
  await waitReady(a);
  assert.equal(await caseIdByTitle(a, original.title), id, 'the list item carries the record id in data-id');

  // B (another device) opens R: it arrives by pull.
  await b.goto(`${server.url}/cases/${id}`);
  await waitReady(b);
  await expectCase(b, original);

  // A goes offline and edits the title (x) and the category (z).
  await a.goto(`${server.url}/cases/${id}`);
  await waitReady(a);
  await expectCase(a, original);
  await ctxA.setOffline(true);
  await waitAttr(a, sel.net, 'data-online', 'false');
  const x = '楼道堆物 R（A 离线修改）';
  await fillCase(a, { title: x, category: 'safety' });
  await expectCase(a, { title: x, category: 'safety' });
  await waitFor(
    a,
    'A to hold its edit in the outbox',
    (s) => Number(document.querySelector(s)?.getAttribute('data-waiting')) >= 1,
    sel.badge,
  );

  // B, online and later, edits the description (y) and the category (z); the server gets it.
  const y = 'B 在线补充的描述';
  await fillCase(b, { description: y, category: 'property_management' });
  await expectCase(b, { description: y, category: 'property_management' });
  await serverCase(server, { id, description: y, category: 'property_management' });

  // A reconnects; nobody touches anything. Both converge: x from A, y from B, z of the later edit.
  await ctxA.setOffline(false);
  const converged = { title: x, description: y, category: 'property_management' };
  await expectCase(a, converged);
  await expectCase(b, converged);
  await serverCase(server, { id, ...converged });
  for (const page of [a, b]) {
    await waitSynced(page);
    await waitAttr(page, sel.badge, 'data-waiting', '0');
  }
  assert.equal(
    await a.getAttribute(sel.caseCategory, 'data-value'),
    await b.getAttribute(sel.caseCategory, 'data-value'),
    'both devices show the same category',
  );
});
