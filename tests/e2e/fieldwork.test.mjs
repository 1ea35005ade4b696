// A warden's field work (issue 6, first part): offline, a visit with a resident's appeal turns
// into a case in one tap; back online it reaches the server by itself; then the case walks its
// lifecycle across roles — the community accepts (受理), the warden starts and resolves (已办结),
// the community verifies and closes it (销号) — and every step is on the timeline both sides see.
// The case list filters offline (search, state).

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  CITY, PASSWORD, caseIdByTitle, eventually, fieldValues, launchBrowser, login, pullAll, sel, serverCase, setupCity, signIn, startServer,
  waitAttr, waitFor, waitReady, waitText, goOffline
} from './harness.mjs';
import { waitSynced } from './badge.mjs';

/**
 * Waits until warden wa's device has stored `form`'s draft with `field` = `value`. A draft is
 * kept as the user types, one IndexedDB write after each input (queued behind whatever the
 * database is doing, such as a first sync's unpacking): a reload before that write lands tests
 * its race with the reload, not the draft.
 */
const draftStored = (page, form, field, value) =>
  waitFor(page, `the ${form} draft stored`, async ([form, field, value]) => {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('tongxin-data-wa');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    try {
      const text = await new Promise((resolve, reject) => {
        const r = db.transaction('meta', 'readonly').objectStore('meta').get(`draft.${form}`);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      return typeof text === 'string' && JSON.parse(text)[field] === value;
    } finally {
      db.close();
    }
  }, [form, field, value]);

/** Clicks the lifecycle button for `action` on the open case page. */
async function act(page, action) {
  const button = page.locator(`[data-testid=case-action][data-action=${action}]`);
  await button.waitFor();
  await button.click();
}

/** Waits until the timeline of the open case lists `actions` in order. */
function timelineIs(page, actions) {
  return waitFor(
    page,
    `the timeline ${actions.join(' → ')}`,
    (want) => [...document.querySelectorAll('[data-testid=timeline-entry]')].map((e) => e.dataset.action).join() === want,
    actions.join(),
  );
}

test('visit → appeal → case offline, then the lifecycle to 销号 across roles', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const warden = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  const manager = await (await browser.newContext()).newPage();
  await signIn(warden, server.url, 'wa');
  await signIn(manager, server.url, 'cm');
  await waitSynced(warden);

  // Offline: a household visit where a resident raises an appeal.
  await goOffline(warden);
  await warden.goto(`${server.url}/visits/new`);
  await waitReady(warden);
  await warden.locator('[data-testid=visit-form] [name=notes]').fill('入户走访三号楼，老人身体好');
  await warden.locator('[data-testid=visit-form] [name=appeals]').fill('楼道灯坏了，晚上看不见');
  await warden.locator(sel.save).click();
  await waitFor(warden, 'the visit listed', () => document.querySelectorAll('[data-testid=visit-item]').length === 1);

  // One tap: the appeal becomes a case (title prefilled), still offline.
  await warden.locator('[data-testid=appeal-to-case]').click();
  await waitFor(warden, 'the prefilled title', () => document.querySelector('form [name=title]')?.value === '楼道灯坏了，晚上看不见');
  await warden.locator('form [name=category]').selectOption('infrastructure');
  await warden.locator(sel.save).click();
  await waitText(warden, sel.caseTitle, '楼道灯坏了，晚上看不见');
  await timelineIs(warden, ['report']);
  await waitAttr(warden, sel.badge, 'data-waiting', '2'); // the visit and the case

  // Online: everything reaches the server with no tap.
  await warden.context().setOffline(false);
  await waitSynced(warden);
  const record = await serverCase(server, { title: '楼道灯坏了，晚上看不见' });
  const fields = fieldValues(record);
  assert.equal(fields.source, 'resident_appeal');
  assert.equal(fields.reporter, 'wa');
  assert.equal(fields.status, 'reported');
  const id = record.id;

  // The warden cannot accept (a grid leader or the community assigns): no such button.
  await warden.locator('[data-testid=case-action][data-action=start]').waitFor();
  assert.equal(await warden.locator('[data-testid=case-action][data-action=accept]').count(), 0, 'a warden does not assign');

  // The community accepts …
  await manager.goto(`${server.url}/cases/${id}`);
  await waitReady(manager);
  await waitText(manager, sel.caseTitle, '楼道灯坏了，晚上看不见');
  await manager.locator('[data-testid=lifecycle] [name=note]').fill('请网格员今天处理');
  await act(manager, 'accept');
  // 受理派单: the picker offers the grid's people, the reporter chosen first; confirming assigns.
  await waitFor(manager, 'the reporter preselected', () => document.querySelector('[data-testid=assign-option][value=wa]')?.checked === true);
  await manager.locator('[data-testid=assign-confirm]').click();
  await timelineIs(manager, ['report', 'accept']);
  await waitAttr(manager, '[data-testid=case-assignee]', 'data-value', 'wa');

  // … the warden starts and resolves …
  await timelineIs(warden, ['report', 'accept']);
  await act(warden, 'start');
  await timelineIs(warden, ['report', 'accept', 'start']);
  await act(warden, 'resolve');
  await waitAttr(warden, '[data-testid=case-status]', 'data-value', 'resolved');
  assert.equal(await warden.locator('[data-testid=case-action][data-action=close]').count(), 0, 'only the owning level closes');

  // … the community verifies and closes (销号); the warden sees it after the next sync.
  await waitAttr(manager, '[data-testid=case-status]', 'data-value', 'resolved');
  await act(manager, 'close');
  await waitAttr(manager, '[data-testid=case-status]', 'data-value', 'closed');
  await waitAttr(warden, '[data-testid=case-status]', 'data-value', 'closed');
  await timelineIs(warden, ['report', 'accept', 'start', 'resolve', 'close']);
  const closed = fieldValues(await serverCase(server, { id, status: 'closed' }));
  assert.ok(closed.closed_at > 0);

  // Offline filters on the list: search and state.
  await warden.goto(`${server.url}/cases`);
  await waitReady(warden);
  await caseIdByTitle(warden, '楼道灯坏了');
  await warden.locator('[name=q]').fill('不存在的词');
  await waitAttr(warden, '[data-testid=cases-count]', 'data-shown', '0');
  await warden.locator('[name=q]').fill('楼道');
  await waitAttr(warden, '[data-testid=cases-count]', 'data-shown', '1');
  await warden.locator('[name=status]').selectOption('reported');
  await waitAttr(warden, '[data-testid=cases-count]', 'data-shown', '0');
  await warden.locator('[name=status]').selectOption('closed');
  await waitAttr(warden, '[data-testid=cases-count]', 'data-shown', '1');
  await warden.locator('.filters [name=category]').selectOption('safety');
  await waitAttr(warden, '[data-testid=cases-count]', 'data-shown', '0');
  await warden.locator('.filters [name=category]').selectOption('infrastructure');
  await waitAttr(warden, '[data-testid=cases-count]', 'data-shown', '1');

  // A draft survives a reload; saving clears it.
  await warden.goto(`${server.url}/cases/new`);
  await waitReady(warden);
  await warden.locator('form [name=title]').fill('草稿：下水道堵塞');
  await warden.locator('form [name=description]').fill('还没写完');
  await warden.locator('form [name=category]').selectOption('environment');
  await draftStored(warden, 'case', 'category', 'environment');
  await warden.reload();
  await waitReady(warden);
  await waitFor(warden, 'the draft restored', () => document.querySelector('form [name=title]')?.value === '草稿：下水道堵塞');
  assert.equal(await warden.locator('form [name=description]').inputValue(), '还没写完');
  assert.equal(await warden.locator('form [name=category]').inputValue(), 'environment');
  await warden.locator(sel.save).click();
  await waitText(warden, sel.caseTitle, '草稿：下水道堵塞');
  await warden.goto(`${server.url}/cases/new`);
  await waitReady(warden);
  await warden.locator('form [name=title]').waitFor();
  assert.equal(await warden.locator('form [name=title]').inputValue(), '', 'the saved draft is gone');

  // A joint activity of the community, recorded by the warden.
  await warden.goto(`${server.url}/activities/new`);
  await waitReady(warden);
  const form = warden.locator('[data-testid=activity-form]');
  await form.locator('[name=title]').fill('洱海边净滩行动');
  await form.locator('[name=theme]').selectOption('erhai_protection');
  await form.locator('[name=date]').fill('2026-11-20');
  await form.locator('[name=place]').fill('才村码头');
  await form.locator('[name=volunteers]').fill('-5');
  await warden.locator(sel.save).click();
  await waitFor(warden, 'the number message', () => [...document.querySelectorAll('.field-error')].some((e) => e.textContent.includes('整数')));
  await form.locator('[name=volunteers]').fill('25');
  await form.locator('[name=residents_served]').fill('120');
  await warden.locator(sel.save).click();
  await waitFor(warden, 'the activity listed', () => document.querySelectorAll('[data-testid=activity-item]').length === 1);
  const activity = await eventually('the server to hold the activity', async () =>
    (await pullAll(server)).find((r) => r.collection === 'activities' && fieldValues(r).title === '洱海边净滩行动'));
  const a = fieldValues(activity);
  assert.equal(a.community, CITY.community);
  assert.equal(a.volunteers, 25);
  assert.equal(a.residents_served, 120);
  assert.equal(a.date, '2026-11-20');
});

test('a household visit: the household added on the spot, picked again next time; visit and activity drafts survive a reload', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const warden = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(warden, server.url, 'wa');
  await waitSynced(warden);
  await goOffline(warden);

  // A new household, typed in part, survives a reload as a draft.
  await warden.goto(`${server.url}/visits/new`);
  await waitReady(warden);
  const form = warden.locator('[data-testid=visit-form]');
  await form.locator('[name=household]').selectOption('new');
  await form.locator('[name=address]').fill('三号楼2单元301');
  await form.locator('[name=head_name]').fill('李大爷');
  await form.locator('[name=phone]').fill('打这个电话');
  await form.locator('[name=notes]').fill('老人独居，身体尚可');
  await draftStored(warden, 'visit', 'notes', '老人独居，身体尚可');
  await warden.reload();
  await waitReady(warden);
  await waitFor(warden, 'the visit draft restored', () => document.querySelector('[data-testid=visit-form] [name=address]')?.value === '三号楼2单元301');
  assert.equal(await form.locator('[name=household]').inputValue(), 'new');
  assert.equal(await form.locator('[name=head_name]').inputValue(), '李大爷');
  assert.equal(await form.locator('[name=notes]').inputValue(), '老人独居，身体尚可');

  // A bad phone number is refused next to the field; nothing typed is lost.
  await warden.locator(sel.save).click();
  await waitFor(warden, 'the phone message', () => [...document.querySelectorAll('.field-error')].some((e) => e.textContent.includes('电话号码格式不对')));
  assert.equal(await form.locator('[name=address]').inputValue(), '三号楼2单元301');
  await form.locator('[name=phone]').fill('138-0000-1111');
  await warden.locator(sel.save).click();
  await waitFor(warden, 'the visit listed', () => document.querySelectorAll('[data-testid=visit-item]').length === 1);
  await waitText(warden, '[data-testid=visit-household]', '三号楼2单元301');

  // Next time the household is on the device to pick; the saved draft is gone.
  await warden.goto(`${server.url}/visits/new`);
  await waitReady(warden);
  await form.locator('[name=household]').waitFor();
  assert.equal(await form.locator('[name=notes]').inputValue(), '', 'the saved draft is gone');
  const option = await (await waitFor(warden, 'the household to pick', () =>
    [...document.querySelectorAll('[name=household] option')].find((o) => o.textContent.includes('三号楼2单元301'))?.value)).jsonValue();
  await form.locator('[name=household]').selectOption(option);
  await form.locator('[name=notes]').fill('回访：灯已修好');
  await warden.locator(sel.save).click();
  await waitFor(warden, 'two visits listed', () => document.querySelectorAll('[data-testid=visit-household]').length === 2);

  // An activity draft survives a reload too.
  await warden.goto(`${server.url}/activities/new`);
  await waitReady(warden);
  const activity = warden.locator('[data-testid=activity-form]');
  await activity.locator('[name=title]').fill('重阳节敬老活动');
  await activity.locator('[name=theme]').selectOption('elderly_care');
  await activity.locator('[name=date]').fill('2026-10-29');
  await activity.locator('[name=volunteers]').fill('12');
  await draftStored(warden, 'activity', 'volunteers', '12');
  await warden.reload();
  await waitReady(warden);
  await waitFor(warden, 'the activity draft restored', () => document.querySelector('[data-testid=activity-form] [name=title]')?.value === '重阳节敬老活动');
  assert.equal(await activity.locator('[name=theme]').inputValue(), 'elderly_care');
  assert.equal(await activity.locator('[name=date]').inputValue(), '2026-10-29');
  assert.equal(await activity.locator('[name=volunteers]').inputValue(), '12');
  await warden.locator(sel.save).click();
  await waitFor(warden, 'the activity listed', () => document.querySelectorAll('[data-testid=activity-item]').length === 1);
  await warden.goto(`${server.url}/activities/new`);
  await waitReady(warden);
  await activity.locator('[name=title]').waitFor();
  assert.equal(await activity.locator('[name=title]').inputValue(), '', 'the saved activity draft is gone');

  // Online: the household and both visits that point at it reach the server with no tap. The
  // community's manager handles it and sees the resident whole; the admin above sees masks.
  await warden.context().setOffline(false);
  await waitSynced(warden);
  const cm = await login(server.url, 'cm', PASSWORD);
  const records = await eventually('the server to hold the household and visits', async () => {
    const all = await pullAll(server, cm);
    const homes = all.filter((r) => r.collection === 'households');
    const visits = all.filter((r) => r.collection === 'visits');
    return homes.length === 1 && visits.length === 2 ? { homes, visits } : null;
  });
  const home = fieldValues(records.homes[0]);
  assert.equal(home.address, '三号楼2单元301');
  assert.equal(home.head_name, '李大爷');
  assert.equal(home.phone, '138-0000-1111');
  assert.equal(home.grid, CITY.g1);
  for (const v of records.visits) assert.equal(fieldValues(v).household, records.homes[0].id);
  const masked = fieldValues((await pullAll(server)).find((r) => r.collection === 'households'));
  assert.equal(masked.head_name, '李**');
  assert.equal(masked.phone, '*********1111');
});
