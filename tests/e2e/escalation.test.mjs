// Configurable deadlines and escalation (督办升级): the server runs with a deadlines file; the
// sweep at its start records an overdue case's escalations, which a manager then reads on the
// case's timeline (by 系统, level by level); a warden's case form uses the configured hours,
// online and offline (the settings are kept on the device), and the case reported offline
// reaches the server with the configured deadline.

import test from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CITY, PASSWORD, api, ensureControlled, eventually, fillCase, launchBrowser, login, pullAll, sel, serverCase,
  setupCity, signIn, startServer, tempDir, waitAttr, waitFor, waitReady,
} from './harness.mjs';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test('configured deadlines reach the app offline, and escalations show in the timeline', async (t) => {
  const dir = await tempDir(t, 'deadlines');
  const file = path.join(dir, 'deadlines.json');
  // Safety cases get 6 hours; the subdistrict after one day overdue, the city after two.
  await writeFile(file, JSON.stringify({ hours: { safety: 6 }, escalation: { subdistrict_after_days: 1, city_after_days: 2 } }));
  const first = await startServer(t, { args: ['--deadlines', file] });
  await setupCity(first);

  // An environment case a day and a half past its deadline, reported by warden wa.
  const now = Date.now();
  const token = await login(first.url, 'wa', PASSWORD);
  const record = '00000000-0000-4000-8000-0000000e5ca1';
  const op = (n, body) => ({
    id: `00000000-0000-4000-9000-0000000e5ca${n}`,
    actor: '00000000-0000-4000-a000-0000000000a1',
    hlc: `${String(now).padStart(15, '0')}-00000${n}`,
    collection: 'cases',
    record,
    body,
    schema: 1,
  });
  const pushed = await api(first.url, token, 'POST', '/api/v1/sync/push', {
    protocol: 2,
    actor: '00000000-0000-4000-a000-0000000000a1',
    ops: [
      op(1, { kind: 'set', fields: { grid: CITY.g1, title: '河道垃圾未清理', category: 'environment', status: 'reported', reporter: 'wa', reported_at: now - 5 * DAY, deadline: now - 36 * HOUR } }),
      op(2, { kind: 'append', entry: { id: '00000000-0000-4000-b000-0000000e5ca1', data: { action: 'report', from: null, to: 'reported', by: 'wa' } } }),
    ],
  });
  assert.ok(pushed.results.every((r) => 'seq' in r), JSON.stringify(pushed));

  // Restart on the same data: the sweep at start escalates it to the community and, a day and
  // a half over with these steps, the subdistrict.
  await first.stop();
  const server = await startServer(t, { dataDir: first.dataDir, args: ['--deadlines', file] });
  await eventually('the sweep at start', async () => {
    const c = (await pullAll(server)).find((r) => r.id === record);
    const levels = Object.values(c?.log ?? {}).filter((e) => e.data.action === 'escalate').map((e) => e.data.level).sort();
    return levels.join() === 'community,subdistrict';
  });
  const settings = await api(server.url, server.adminToken, 'GET', '/api/v1/settings');
  assert.equal(settings.deadlines.hours.safety, 6);

  const browser = await launchBrowser(t);
  const manager = await (await browser.newContext()).newPage();
  await signIn(manager, server.url, 'cm');
  await manager.goto(`${server.url}/cases/${record}`);
  await waitReady(manager);
  await waitFor(
    manager,
    'both escalations on the timeline, in order, by the system',
    () => {
      const entries = [...document.querySelectorAll('[data-testid=timeline-entry][data-action=escalate]')];
      return entries.map((e) => e.dataset.level).join() === 'community,subdistrict' && entries.every((e) => e.textContent.includes('系统'));
    },
  );
  const text = await manager.locator('[data-testid=timeline-entry][data-level=subdistrict]').textContent();
  assert.ok(text.includes('逾期升级督办') && text.includes('街道') && text.includes('1天'), text);

  // A warden's form: the configured 6 hours for a safety case, fetched at sign-in ...
  const context = await browser.newContext();
  const warden = await context.newPage();
  await signIn(warden, server.url, 'wa');
  await ensureControlled(warden);
  await warden.goto(`${server.url}/cases/new`);
  await waitReady(warden);
  await warden.locator('form [name=category]').selectOption('safety');
  await waitAttr(warden, '[data-testid=deadline-hint]', 'data-hours', '6');

  // ... and kept on the device: offline, after a reload, a case reported gets them.
  await context.setOffline(true);
  await warden.reload();
  await waitReady(warden);
  await waitAttr(warden, sel.net, 'data-online', 'false');
  await warden.locator('form [name=category]').selectOption('safety');
  await waitAttr(warden, '[data-testid=deadline-hint]', 'data-hours', '6');
  await fillCase(warden, { title: '离线上报：消防通道堵塞', category: 'safety' });
  await waitAttr(warden, sel.badge, 'data-waiting', '1');
  await context.setOffline(false);
  const reported = await serverCase(server, { title: '离线上报：消防通道堵塞' });
  assert.equal(reported.fields.deadline.value - reported.fields.reported_at.value, 6 * HOUR);
});
