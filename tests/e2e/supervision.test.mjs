// Supervision (督办, issue 6): an overdue case shows its overdue flag, sits in the queue of the
// level it escalated to (one day late: the community), and that level's manager records a
// reminder on its timeline, which the warden then sees.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  CITY, PASSWORD, api, caseIdByTitle, launchBrowser, login, sel, setupCity, signIn, startServer, waitAttr, waitFor,
  waitReady,
} from './harness.mjs';

const DAY = 86_400_000;

test('an overdue case is in the community queue and gets a reminder the warden sees', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const now = Date.now();
  const token = await login(server.url, 'wa', PASSWORD);
  const record = '00000000-0000-4000-8000-0000000ca5e1';
  // A second case in the same grid, reported today and far from its deadline: the queue's filter
  // must leave it out (with one case in the area, a filter that kept everything would pass).
  const fresh = '00000000-0000-4000-8000-0000000ca5e2';
  const op = (n, body, rec = record) => ({
    id: `00000000-0000-4000-9000-0000000ca5e${n}`,
    actor: '00000000-0000-4000-a000-0000000000a1',
    hlc: `${String(now).padStart(15, '0')}-00000${n}`,
    collection: 'cases',
    record: rec,
    body,
    schema: 1,
  });
  const pushed = await api(server.url, token, 'POST', '/api/v1/sync/push', {
    protocol: 2,
    actor: '00000000-0000-4000-a000-0000000000a1',
    ops: [
      op(1, { kind: 'set', fields: { grid: CITY.g1, title: '逾期未处理的垃圾点', category: 'environment', status: 'reported', reporter: 'wa', reported_at: now - 5 * DAY, deadline: now - 5 * DAY + 72 * 3_600_000 } }), // environment: 72 hours
      op(2, { kind: 'append', entry: { id: '00000000-0000-4000-b000-0000000ca5e1', data: { action: 'report', from: null, to: 'reported', by: 'wa' } } }),
      op(3, { kind: 'set', fields: { grid: CITY.g1, title: '今天上报的路灯不亮', category: 'environment', status: 'reported', reporter: 'wa', reported_at: now, deadline: now + 72 * 3_600_000 } }, fresh),
      op(4, { kind: 'append', entry: { id: '00000000-0000-4000-b000-0000000ca5e2', data: { action: 'report', from: null, to: 'reported', by: 'wa' } } }, fresh),
    ],
  });
  assert.ok(pushed.results.every((r) => 'seq' in r), JSON.stringify(pushed));

  const browser = await launchBrowser(t);
  const manager = await (await browser.newContext()).newPage();
  const warden = await (await browser.newContext()).newPage();
  await signIn(manager, server.url, 'cm');
  await signIn(warden, server.url, 'wa');

  // The manager's queue: only cases escalated to the community level.
  await manager.goto(`${server.url}/cases`);
  await waitReady(manager);
  const id = await caseIdByTitle(manager, '逾期未处理的垃圾点');
  await waitFor(manager, 'the overdue flag', () => document.querySelector('[data-testid=case-item] [data-testid=overdue]') !== null);
  await caseIdByTitle(manager, '今天上报的路灯不亮');
  await waitAttr(manager, '[data-testid=cases-count]', 'data-shown', '2');
  await manager.locator('.filters [name=escalated]').check();
  await waitAttr(manager, '[data-testid=cases-count]', 'data-shown', '1');
  assert.equal(await manager.locator('[data-testid=case-item]').count(), 1);
  assert.ok((await manager.locator('[data-testid=case-item]').textContent()).includes('逾期未处理的垃圾点'), 'the overdue case is the one kept');

  // 督办: a reminder with a note lands on the timeline; the case keeps its state.
  await manager.goto(`${server.url}/cases/${id}`);
  await waitReady(manager);
  await manager.locator('[data-testid=lifecycle] [name=note]').fill('请今天内处理');
  await manager.locator('[data-testid=case-action][data-action=remind]').click();
  const reminded = () => [...document.querySelectorAll('[data-testid=timeline-entry]')].some((e) => e.dataset.action === 'remind' && e.textContent.includes('请今天内处理'));
  await waitFor(manager, 'the reminder on the timeline', reminded);

  await warden.goto(`${server.url}/cases/${id}`);
  await waitReady(warden);
  await waitFor(warden, 'the reminder reaching the warden', reminded);
  await waitAttr(warden, '[data-testid=case-status]', 'data-value', 'reported');
  assert.equal(await warden.locator('[data-testid=case-action][data-action=remind]').count(), 0, 'wardens do not supervise');
});
