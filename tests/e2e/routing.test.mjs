// Routing cases (issue 14 item 4): the report form records where a case came from (12345 here),
// the dashboard's count by source follows; the accepting manager picks the assignee among the
// people of the case's grid and the managers of its community (searchable), the assignee finds
// the case under "mine" from the home tile, and the dashboard's "not yet assigned" count follows;
// a reassignment (改派) is named on the timeline. The server's policy refuses an assignee outside
// the case's area, a warden who tries to assign, and a move to a grid the assignee does not work.
// When the administrator moves the assignee elsewhere, the server hands the case back (退回待派):
// the manager sees it to dispatch again, the timeline says why, by the system.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  CITY, PASSWORD, api, launchBrowser, login, sel, serverCase, setGrids, setupCity, signIn, startServer, waitAttr,
  waitFor, waitReady, waitText,
} from './harness.mjs';
import { waitSynced } from './badge.mjs';

/** Waits until the dashboard's by-source table counts `n` cases for the source labelled `label`. */
function sourceCountIs(page, label, n) {
  return waitFor(
    page,
    `the ${label} source row to count ${n}`,
    ([label, n]) => [...document.querySelectorAll('[data-testid=by-source] tbody tr')]
      .some((tr) => tr.cells[0]?.textContent === label && tr.cells[1]?.textContent === String(n)),
    [label, n],
  );
}

test('a 12345 case is counted by source, assigned to a warden of its grid, and found under their "mine"', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  // A manager of the other community: no candidate for a case of the first.
  await api(server.url, server.adminToken, 'POST', '/api/v1/admin/users', {
    username: 'cm2', display_name: '二社区管理员', role: 'community_manager', communities: [CITY.otherCommunity], password: PASSWORD,
  });
  const browser = await launchBrowser(t);
  const manager = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(manager, server.url, 'cm');
  await waitSynced(manager);

  // The report form offers the sources; a manager records a hotline case in the second grid.
  await manager.goto(`${server.url}/cases/new`);
  await waitReady(manager);
  const form = manager.locator('[data-testid=case-form]');
  await form.locator('[name=title]').waitFor();
  assert.equal(await form.locator('[name=source]').inputValue(), 'patrol', 'found on patrol unless said otherwise');
  const offered = await form.locator('[name=source] option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(offered.sort(), ['consultation', 'hotline_12345', 'patrol', 'red_checkup', 'resident_appeal']);
  await form.locator('[name=title]').fill('12345 转来：路灯不亮');
  await form.locator('[name=category]').selectOption('infrastructure');
  await form.locator('[name=source]').selectOption('hotline_12345');
  await form.locator('[name=grid]').selectOption(CITY.g2);
  await manager.locator(sel.save).click();
  await waitText(manager, sel.caseTitle, '12345 转来：路灯不亮');
  await waitAttr(manager, '[data-testid=case-source]', 'data-value', 'hotline_12345');
  const { id } = await serverCase(server, { title: '12345 转来：路灯不亮', source: 'hotline_12345', grid: CITY.g2 });

  // The dashboard counts it by its source, and as not yet assigned.
  await manager.goto(`${server.url}/dashboard`);
  await waitReady(manager);
  await sourceCountIs(manager, '12345 热线', 1);
  await waitAttr(manager, '[data-testid=fig-unassigned]', 'data-n', '1');

  // 受理派单: the picker lists the people of the case's grid (wb, not wa of G1) and the managers
  // of its community (cm, not cm2 of C2), by name.
  await manager.goto(`${server.url}/cases/${id}`);
  await waitReady(manager);
  await manager.locator('[data-testid=case-action][data-action=accept]').click();
  const picker = manager.locator('[data-testid=assignee-picker]');
  await waitFor(manager, 'the candidates', () => document.querySelectorAll('[data-testid=assign-option]').length > 0);
  assert.deepEqual(await picker.locator('[data-testid=assign-option]').evaluateAll((els) => els.map((e) => e.value)), ['cm', 'wb']);
  const cmOption = picker.locator('label.check', { has: manager.locator('[value=cm]') });
  assert.equal(await cmOption.locator('span').first().textContent(), '社区管理员', 'by name');
  assert.equal(await cmOption.locator('.tag').textContent(), '社区管理员', 'tagged with the role');
  await waitFor(manager, 'the reporter, a candidate, chosen at first', () => document.querySelector('[data-testid=assign-option][value=cm]')?.checked);
  await picker.locator('[name=assignee-search]').fill('甲');
  await waitFor(manager, 'nobody called 甲 in this grid', () => document.querySelectorAll('[data-testid=assign-option]').length === 0);
  await picker.locator('[name=assignee-search]').fill('乙');
  await picker.locator('[data-testid=assign-option][value=wb]').check();
  await picker.locator('[data-testid=assign-confirm]').click();
  await waitAttr(manager, '[data-testid=case-status]', 'data-value', 'accepted');
  await waitAttr(manager, '[data-testid=case-assignee]', 'data-value', 'wb');
  await waitText(manager, '[data-testid=case-assignee]', '网格员乙');
  await serverCase(server, { id, status: 'accepted', assignee: 'wb' });

  // The server judges the assignee: nobody outside the case's grid, and no warden reassigns.
  const set = (actor, fields) => ({
    id: `00000000-0000-4000-9e00-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`,
    actor,
    hlc: `${String(Date.now()).padStart(15, '0')}-000001`,
    collection: 'cases',
    record: id,
    body: { kind: 'set', fields },
    schema: 1,
  });
  const cmToken = await login(server.url, 'cm', PASSWORD);
  const outside = await api(server.url, cmToken, 'POST', '/api/v1/sync/push', {
    protocol: 2, actor: '00000000-0000-4000-a000-0000000c0c01', ops: [set('00000000-0000-4000-a000-0000000c0c01', { assignee: 'wa' })],
  });
  assert.equal(outside.results[0].rejected?.code, 'bad_assignee', JSON.stringify(outside));
  const wbToken = await login(server.url, 'wb', PASSWORD);
  const byWarden = await api(server.url, wbToken, 'POST', '/api/v1/sync/push', {
    protocol: 2, actor: '00000000-0000-4000-a000-0000000b0b01', ops: [set('00000000-0000-4000-a000-0000000b0b01', { assignee: 'wa' })],
  });
  assert.equal(byWarden.results[0].rejected?.code, 'forbidden_field', JSON.stringify(byWarden));
  // Moving the case to G1 would leave it with wb, who works G2 only: refused unless the move
  // reassigns it.
  const moved = await api(server.url, cmToken, 'POST', '/api/v1/sync/push', {
    protocol: 2, actor: '00000000-0000-4000-a000-0000000c0c01', ops: [set('00000000-0000-4000-a000-0000000c0c01', { grid: CITY.g1 })],
  });
  assert.equal(moved.results[0].rejected?.code, 'bad_assignee', JSON.stringify(moved));
  await serverCase(server, { id, assignee: 'wb', grid: CITY.g2 });

  // The assignee signs in on a phone: the "mine" tile counts it and opens the list filtered to it.
  const warden = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(warden, server.url, 'wb');
  await waitSynced(warden);
  await warden.goto(`${server.url}/`);
  await waitReady(warden);
  await waitAttr(warden, '[data-testid=today-mine]', 'data-n', '1');
  await warden.locator('[data-testid=today-mine]').click();
  await waitFor(warden, 'the filtered list', () => location.search.includes('mine=1'));
  await waitAttr(warden, '[data-testid=cases-count]', 'data-shown', '1');
  assert.equal(await warden.locator('[data-testid=case-item]').getAttribute('data-id'), id);
  assert.ok(await warden.locator('.filters [name=mine]').isChecked(), 'the filter shows as set');
  assert.equal(await warden.locator('[data-testid=export-csv]').count(), 0, 'wardens are not offered CSV export');

  // The dashboard follows: nothing left unassigned; the source count stays.
  await manager.goto(`${server.url}/dashboard`);
  await waitReady(manager);
  await waitAttr(manager, '[data-testid=fig-unassigned]', 'data-n', '0');
  await sourceCountIs(manager, '12345 热线', 1);

  // 改派: the manager hands the case to themselves; the timeline names whom it went to.
  await manager.goto(`${server.url}/cases/${id}`);
  await waitReady(manager);
  await manager.locator('[data-testid=case-action][data-action=reassign]').click();
  await picker.locator('[data-testid=assign-option][value=cm]').check();
  await picker.locator('[data-testid=assign-confirm]').click();
  await waitAttr(manager, '[data-testid=case-assignee]', 'data-value', 'cm');
  await waitText(manager, '[data-testid=timeline-entry][data-assignee=cm] strong', '改派给 社区管理员');
  await serverCase(server, { id, assignee: 'cm' });
});

test('a case from a visit starts as a resident appeal; an unknown source is refused by the server', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const warden = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(warden, server.url, 'wa');
  await warden.goto(`${server.url}/cases/new?visit=1&title=${encodeURIComponent('楼道灯坏了')}`);
  await waitReady(warden);
  await warden.locator('form [name=title]').waitFor();
  assert.equal(await warden.locator('form [name=source]').inputValue(), 'resident_appeal');

  const token = await login(server.url, 'wa', PASSWORD);
  const now = Date.now();
  const pushed = await api(server.url, token, 'POST', '/api/v1/sync/push', {
    protocol: 2,
    actor: '00000000-0000-4000-a000-0000000a0a01',
    ops: [{
      id: '00000000-0000-4000-9e00-000000000a01',
      actor: '00000000-0000-4000-a000-0000000a0a01',
      hlc: `${String(now).padStart(15, '0')}-000001`,
      collection: 'cases',
      record: '00000000-0000-4000-8000-00000000a0a1',
      body: { kind: 'set', fields: { grid: CITY.g1, title: '来源不明', category: 'other', status: 'reported', reporter: 'wa', reported_at: now, deadline: now + 3_600_000, source: 'rumour' } },
      schema: 1,
    }],
  });
  assert.ok(pushed.results[0].rejected, JSON.stringify(pushed));
  assert.ok(['unknown_source', 'bad_value'].includes(pushed.results[0].rejected.code), JSON.stringify(pushed));
});

test('a case whose assignee is moved to another community goes back to the manager to dispatch', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const manager = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(manager, server.url, 'cm');
  await waitSynced(manager);
  await manager.goto(`${server.url}/cases/new`);
  await waitReady(manager);
  const form = manager.locator('[data-testid=case-form]');
  await form.locator('[name=title]').fill('井盖松动');
  await form.locator('[name=category]').selectOption('infrastructure');
  await form.locator('[name=grid]').selectOption(CITY.g2);
  await manager.locator(sel.save).click();
  await waitText(manager, sel.caseTitle, '井盖松动');
  const { id } = await serverCase(server, { title: '井盖松动', grid: CITY.g2 });
  await manager.goto(`${server.url}/cases/${id}`);
  await waitReady(manager);
  await manager.locator('[data-testid=case-action][data-action=accept]').click();
  const picker = manager.locator('[data-testid=assignee-picker]');
  await picker.locator('[data-testid=assign-option][value=wb]').check();
  await picker.locator('[data-testid=assign-confirm]').click();
  await waitAttr(manager, '[data-testid=case-assignee]', 'data-value', 'wb');
  await serverCase(server, { id, status: 'accepted', assignee: 'wb' });

  // wb now works in the other community's grid: the case goes back, by the system.
  await setGrids(server, 'wb', 'warden', [CITY.g3]);
  await serverCase(server, { id, status: 'reported', assignee: null });
  await waitAttr(manager, '[data-testid=case-status]', 'data-value', 'reported');
  await waitAttr(manager, '[data-testid=case-assignee]', 'data-value', '');
  const entry = manager.locator('[data-testid=timeline-entry][data-action=unassign]');
  await waitText(manager, '[data-testid=timeline-entry][data-action=unassign] strong', '退回待派：网格员乙 已不在此处任职');
  assert.equal(await entry.locator('[data-testid=timeline-by]').textContent(), '系统');
  // The accepting manager may dispatch it again.
  await manager.locator('[data-testid=case-action][data-action=accept]').click();
  await picker.locator('[data-testid=assign-option][value=cm]').check();
  await picker.locator('[data-testid=assign-confirm]').click();
  await waitAttr(manager, '[data-testid=case-assignee]', 'data-value', 'cm');
  await serverCase(server, { id, status: 'accepted', assignee: 'cm' });
});
