// Personal numbers in free text (issue 12, item 8): when a warden types a phone or ID number
// into a free-text field, the form says next to that field that such numbers are hidden from
// higher levels and belong in the phone field — in Chinese and in English — and saving is still
// allowed. The saved case reaches the community manager in clear and the subdistrict redacted.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  CITY, PASSWORD, api, fieldValues, launchBrowser, login, pullAll, sel, serverCase, setupCity, signIn, startServer,
  waitAttr, waitFor, waitReady, waitText,
} from './harness.mjs';

const notice = (field) => `form [data-testid=number-notice][data-field=${field}]`;

/** Waits until the notice of `field` is shown (`true`) or absent (`false`); returns its text. */
async function noticeShown(page, field, shown) {
  await waitFor(
    page,
    `the number notice of ${field} ${shown ? 'shown' : 'gone'}`,
    ([s, want]) => (document.querySelector(s) !== null) === want,
    [notice(field), shown],
  );
  return shown ? (await page.locator(notice(field)).textContent()).trim() : null;
}

test('a number typed into free text gets a notice, saves, and is redacted above the community', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  await api(server.url, server.adminToken, 'POST', '/api/v1/admin/users', {
    username: 'sm',
    display_name: '街道管理员',
    role: 'subdistrict_manager',
    subdistricts: [CITY.subdistrict],
    password: PASSWORD,
  });
  const browser = await launchBrowser(t);
  const warden = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(warden, server.url, 'wa');
  await waitAttr(warden, sel.badge, 'data-state', 'synced');

  // The case form: a title with a mobile number shows the notice next to the title only.
  await warden.goto(`${server.url}/cases/new`);
  await waitReady(warden);
  const title = warden.locator('form [name=title]');
  const description = warden.locator('form [name=description]');
  await title.fill('楼道漏水');
  await description.fill('三号楼二单元');
  await noticeShown(warden, 'title', false);
  await title.fill('楼道漏水 请回电 138 1234 5678');
  const zh = await noticeShown(warden, 'title', true);
  assert.match(zh, /电话或身份证号/);
  assert.match(zh, /仍可保存/);
  await noticeShown(warden, 'description', false);
  // The notice sits right after the title's field, not at the end of the form.
  const next = await warden.evaluate(() => document.querySelector('form [name=title]').closest('label').nextElementSibling?.dataset.field);
  assert.equal(next, 'title');
  // An ID number in the description: its own notice; a landline is a number too.
  await description.fill('身份证 53290119900307123X');
  await noticeShown(warden, 'description', true);
  await description.fill('物业 0872-2123456');
  await noticeShown(warden, 'description', true);
  await description.fill('三号楼二单元');
  await noticeShown(warden, 'description', false);

  // In English too.
  await warden.locator(sel.langToggle).click();
  await waitFor(warden, 'html lang=en', () => document.documentElement.lang === 'en');
  const en = await noticeShown(warden, 'title', true);
  assert.match(en, /phone or ID number/);
  assert.match(en, /phone field/);
  assert.notEqual(en, zh);

  // Saving is still allowed.
  await warden.locator('form [name=category]').selectOption('infrastructure');
  await warden.locator(sel.save).click();
  await waitText(warden, sel.caseTitle, '楼道漏水 请回电 138 1234 5678');
  await waitAttr(warden, sel.badge, 'data-state', 'synced');

  // The community handles the case: it reads the number; the subdistrict reads it redacted.
  const record = await serverCase(server, { title: '楼道漏水 请回电 138 **** **78' }, 'the redacted title (admin)');
  const asManager = await pullAll(server, await login(server.url, 'cm', PASSWORD));
  assert.equal(fieldValues(asManager.find((r) => r.id === record.id)).title, '楼道漏水 请回电 138 1234 5678');
  const asSubdistrict = await pullAll(server, await login(server.url, 'sm', PASSWORD));
  assert.equal(fieldValues(asSubdistrict.find((r) => r.id === record.id)).title, '楼道漏水 请回电 138 **** **78');

  // The visit form: notes and appeals get the same notice.
  await warden.goto(`${server.url}/visits/new`);
  await waitReady(warden);
  await warden.locator('[data-testid=visit-form] [name=notes]').fill('老人说有事打13912345678');
  await noticeShown(warden, 'notes', true);
  await noticeShown(warden, 'appeals', false);
  await warden.locator('[data-testid=visit-form] [name=appeals]').fill('修路\n联系人 0872-2123456');
  await noticeShown(warden, 'appeals', true);
});
