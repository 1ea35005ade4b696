// Names instead of ids (issue 14, item 3): people by their names on case timelines (also for a
// warden offline), on the grid panel's visits, in the per-warden table and in the case CSV (which
// carries the grid's code and name and the reporter's name and login id); the administrator picks
// a new warden's grids from the hierarchy (search and cascading selects) instead of typing ids,
// and imports users in bulk from a CSV (then an XLSX workbook) whose one bad row is named by its
// row number.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import {
  ADMIN, CITY, allUsers, api, caseIdByTitle, fillCase, launchBrowser, login, sel, setupCity, signIn, startServer,
  waitAttr, waitFor, waitReady, waitText,
} from './harness.mjs';
import { waitSynced } from './badge.mjs';

/** Reads a download as UTF-8 text, checking the byte-order mark Excel needs. */
async function downloadText(download) {
  const bytes = await readFile(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 byte-order mark');
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(3));
}

/** A zip of stored (uncompressed) entries: enough for a small XLSX workbook. */
function zipStored(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  const date = ((2026 - 1980) << 9) | (11 << 5) | 30;
  for (const [name, text] of files) {
    const n = Buffer.from(name, 'utf8');
    const data = Buffer.from(text, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A one-sheet XLSX workbook of text cells, as a spreadsheet program writes the parts. */
function xlsx(rows) {
  const main = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  const rels = 'http://schemas.openxmlformats.org/package/2006/relationships';
  const doc = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
  const cells = rows.map((r, i) => `<row r="${i + 1}">${r.map((v, j) =>
    `<c r="${String.fromCharCode(65 + j)}${i + 1}" t="inlineStr"><is><t>${v}</t></is></c>`).join('')}</row>`).join('');
  return zipStored([
    ['[Content_Types].xml', `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`],
    ['_rels/.rels', `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="${rels}"><Relationship Id="rId1" Type="${doc}/officeDocument" Target="xl/workbook.xml"/></Relationships>`],
    ['xl/workbook.xml', `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="${main}" xmlns:r="${doc}"><sheets><sheet name="人员" sheetId="1" r:id="rId1"/></sheets></workbook>`],
    ['xl/_rels/workbook.xml.rels', `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="${rels}"><Relationship Id="rId1" Type="${doc}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`],
    ['xl/worksheets/sheet1.xml', `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${main}"><sheetData>${cells}</sheetData></worksheet>`],
  ]);
}

/** Waits until the open case's timeline names its entries' people as `names`. */
function timelineBy(page, names) {
  return waitFor(
    page,
    `the timeline by ${names.join(', ')}`,
    (want) => [...document.querySelectorAll('[data-testid=timeline-by]')].map((e) => e.textContent.trim()).join() === want,
    names.join(),
  );
}

test('people and places by name: timelines (offline too), grid panel, per-warden table, case CSV', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const warden = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  const manager = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(warden, server.url, 'wa');
  await signIn(manager, server.url, 'cm');
  await waitSynced(warden);

  // The warden reports a case and records a visit in G1.
  await warden.goto(`${server.url}/cases/new`);
  await waitReady(warden);
  await fillCase(warden, { title: '路灯不亮（姓名）', description: '名字测试', category: 'infrastructure' });
  await waitText(warden, sel.caseTitle, '路灯不亮（姓名）');
  await warden.goto(`${server.url}/visits/new`);
  await waitReady(warden);
  await warden.locator('[data-testid=visit-form] [name=notes]').fill('入户走访');
  await warden.locator(sel.save).click();
  await waitFor(warden, 'the visit listed', () => document.querySelectorAll('[data-testid=visit-item]').length === 1);
  await waitSynced(warden);

  // The community manager reports one in G1 too.
  await waitSynced(manager);
  await manager.goto(`${server.url}/cases/new`);
  await waitReady(manager);
  await manager.locator('form [name=grid]').selectOption(CITY.g1);
  await fillCase(manager, { title: '井盖松动（姓名）', description: '名字测试', category: 'safety' });
  await waitText(manager, sel.caseTitle, '井盖松动（姓名）');
  await waitSynced(manager);

  // The manager reads the warden's case: the reporter by name, not `wa`.
  await manager.goto(`${server.url}/cases`);
  await waitReady(manager);
  const wardenCase = await caseIdByTitle(manager, '路灯不亮（姓名）');
  await manager.goto(`${server.url}/cases/${wardenCase}`);
  await waitReady(manager);
  await timelineBy(manager, ['网格员甲']);
  assert.equal(await manager.getAttribute('[data-testid=timeline-by]', 'data-username'), 'wa');

  // The warden, offline, reads the manager's case: the name comes from the device.
  await warden.goto(`${server.url}/cases`);
  await waitReady(warden);
  await caseIdByTitle(warden, '井盖松动（姓名）');
  await warden.context().setOffline(true);
  await warden.locator(sel.caseItem, { hasText: '井盖松动（姓名）' }).click();
  await waitText(warden, sel.caseTitle, '井盖松动（姓名）');
  await timelineBy(warden, ['社区管理员']);
  await warden.context().setOffline(false);

  // The grid panel: the grid's code and name, the visit by the warden's name.
  await manager.goto(`${server.url}/map`);
  await waitReady(manager);
  const shape = `[data-testid=grid-shape][data-id="${CITY.g1}"]`;
  await manager.locator(shape).waitFor();
  await manager.locator(shape).dispatchEvent('click');
  await waitAttr(manager, '[data-testid=grid-panel]', 'data-id', CITY.g1);
  await waitFor(manager, 'the panel titled by code and name', () =>
    document.querySelector('[data-testid=panel-title]')?.textContent.replace(/\s+/g, ' ').trim() === 'G1 第一网格');
  await waitFor(manager, 'the visit by the warden\'s name', () =>
    document.querySelector('[data-testid=panel-visits]')?.textContent.includes('网格员甲'));
  const visits = await manager.locator('[data-testid=panel-visits]').textContent();
  assert.ok(!/\bwa\b/.test(visits), `no login id on the panel: ${visits}`);

  // The per-warden table of the dashboard names the warden.
  await manager.goto(`${server.url}/dashboard`);
  await waitReady(manager);
  await waitFor(manager, 'the per-warden table by name', () =>
    document.querySelector('[data-testid=per-warden] tbody')?.textContent.includes('网格员甲'));

  // The case CSV: the grid's code and name in two columns, the reporter's name and login id.
  await manager.goto(`${server.url}/cases`);
  await waitReady(manager);
  await waitAttr(manager, '[data-testid=cases-count]', 'data-shown', '2');
  const [download] = await Promise.all([manager.waitForEvent('download'), manager.locator('[data-testid=export-csv]').click()]);
  const lines = (await downloadText(download)).trim().split('\r\n');
  const header = lines[0].split(',');
  const col = (name) => {
    const i = header.indexOf(name);
    assert.ok(i >= 0, `a ${name} column in ${lines[0]}`);
    return i;
  };
  const row = lines.find((l) => l.includes('路灯不亮（姓名）')).split(',');
  assert.equal(row[col('网格编码')], 'G1');
  assert.equal(row[col('网格名称')], '第一网格');
  assert.equal(row[col('上报人')], '网格员甲');
  assert.equal(row[col('上报人账号')], 'wa');
  assert.ok(!lines.join('\n').includes(CITY.g1), 'no grid UUID in the CSV');
});

test('the admin picks a warden\'s grids from the hierarchy and imports users in bulk', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(page, server.url, ADMIN.username, ADMIN.password);
  await waitSynced(page);
  await page.goto(`${server.url}/admin`);
  await waitReady(page);

  // A new warden: one grid found by searching its name, one through the cascade.
  const form = page.locator('[data-testid=admin-form]');
  await form.locator('[name=username]').fill('wnew');
  await form.locator('[name=display_name]').fill('新网格员');
  await form.locator('[name=role]').selectOption('warden');
  await form.locator('[name=password]').fill('new-warden-password');
  await form.locator('[data-testid=area-search]').fill('第二');
  const option = form.locator(`[data-testid=area-option][data-id="${CITY.g2}"]`);
  await option.waitFor();
  assert.equal((await option.textContent()).trim(), 'G2 第二网格 · C1 一社区', 'code, name and community');
  await option.click();
  await form.locator('[name=pick_subdistrict]').selectOption(CITY.subdistrict);
  await form.locator('[name=pick_community]').selectOption(CITY.otherCommunity);
  await form.locator('[name=pick_grid]').selectOption(CITY.g3);
  await form.locator('[data-testid=area-add]').click();
  await waitFor(page, 'two chips', () => document.querySelectorAll('[data-testid=area-chip]').length === 2);
  const chips = await form.locator('[data-testid=area-chip-label]').evaluateAll((els) => els.map((e) => e.textContent.trim()));
  assert.deepEqual(chips, ['G2 第二网格', 'G3 第三网格']);
  await form.locator('button[type=submit]').click();
  await waitFor(page, 'the user listed', () => document.querySelector('[data-testid=admin-user][data-username=wnew]'));
  const users = await allUsers(server);
  const wnew = users.find((u) => u.username === 'wnew');
  assert.deepEqual(wnew.grids, [CITY.g2, CITY.g3]);
  assert.equal(wnew.display_name, '新网格员');

  // Bulk import: one bad row (an unknown grid code) is named by its row, nothing is created.
  const file = (rows) => ({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(`\ufeff用户名,姓名,角色,网格编码,社区编码\n${rows.join('\n')}\n`, 'utf8') });
  const importer = page.locator('[data-testid=users-import]');
  const good = ['w101,王五,网格员,G1,', 'w102,赵六,warden,G2;G3,', 'c101,钱七,社区管理员,,C2'];
  await importer.locator('[data-testid=users-import-file]').setInputFiles(file([good[0], 'w1x,孙八,网格员,G9,', good[2]]));
  await waitFor(page, 'the check button', () => !document.querySelector('[data-testid=users-import-check]').disabled);
  await importer.locator('[data-testid=users-import-check]').click();
  await waitFor(page, 'the problem', () => document.querySelectorAll('[data-testid=users-import-problem]').length > 0);
  const problems = await importer.locator('[data-testid=users-import-problem]').evaluateAll((els) => els.map((e) => [e.dataset.row, e.textContent.trim()]));
  assert.deepEqual(problems, [['3', '第 3 行：没有编码为“G9”的网格']], 'the header is row 1');
  assert.equal(await importer.locator('[data-testid=users-import-apply]').count(), 0);

  // Fixed: preview, then create; the passwords are shown once and download as CSV.
  await importer.locator('[data-testid=users-import-file]').setInputFiles(file(good));
  await waitFor(page, 'the check button', () => !document.querySelector('[data-testid=users-import-check]').disabled);
  await importer.locator('[data-testid=users-import-check]').click();
  await waitAttr(page, '[data-testid=users-import-preview]', 'data-rows', '3');
  const before = await allUsers(server);
  assert.ok(!before.some((u) => u.username === 'w101'), 'a preview creates nothing');
  await importer.locator('[data-testid=users-import-apply]').click();
  await waitAttr(page, '[data-testid=users-created]', 'data-n', '3');
  const [download] = await Promise.all([page.waitForEvent('download'), importer.locator('[data-testid=users-passwords-download]').click()]);
  const lines = (await downloadText(download)).trim().split('\r\n');
  assert.equal(lines.length, 4, lines.join('\n'));
  assert.equal(lines[0], '用户名,显示名称,初始密码');
  const [username, name, password] = lines.find((l) => l.startsWith('w102,')).split(',');
  assert.equal(name, '赵六');
  const shown = await importer.locator('[data-testid=users-created-row][data-username=w102] code').textContent();
  assert.equal(shown, password, 'the download holds the password shown');
  // The generated password signs in, to the area of the file.
  const token = await login(server.url, username, password);
  const me = await api(server.url, token, 'GET', '/api/v1/auth/me');
  assert.deepEqual(me.grids, [CITY.g2, CITY.g3]);
  // Never logged.
  assert.ok(!server.stderr().includes(password), 'the password is not in the server log');

  // The same from an XLSX workbook (its first sheet): a bad row by its sheet row, then created.
  const workbook = (rows) => ({
    name: 'users.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    buffer: xlsx([['用户名', '姓名', '角色', '网格编码'], ...rows]),
  });
  await importer.locator('[data-testid=users-import-file]').setInputFiles(workbook([['w103', '周九', '网格员', 'G1'], ['w104', '吴十', '巡逻员', 'G1']]));
  await waitFor(page, 'the check button', () => !document.querySelector('[data-testid=users-import-check]').disabled);
  await importer.locator('[data-testid=users-import-check]').click();
  await waitFor(page, 'the workbook problem', () => document.querySelectorAll('[data-testid=users-import-problem]').length > 0);
  const sheetProblems = await importer.locator('[data-testid=users-import-problem]').evaluateAll((els) => els.map((e) => e.dataset.row));
  assert.deepEqual(sheetProblems, ['3'], 'the unknown role on sheet row 3');
  await importer.locator('[data-testid=users-import-file]').setInputFiles(workbook([['w103', '周九', '网格员', 'G1']]));
  await waitFor(page, 'the check button', () => !document.querySelector('[data-testid=users-import-check]').disabled);
  await importer.locator('[data-testid=users-import-check]').click();
  await waitAttr(page, '[data-testid=users-import-preview]', 'data-rows', '1');
  await importer.locator('[data-testid=users-import-apply]').click();
  await waitAttr(page, '[data-testid=users-created]', 'data-n', '1');
  const w103 = (await allUsers(server)).find((u) => u.username === 'w103');
  assert.deepEqual(w103?.grids, [CITY.g1]);
});
