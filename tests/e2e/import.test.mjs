// GeoJSON import of grids (issue 7), as an admin in the app: a file with one broken feature is
// reported with that feature's number (counted from 1, as are its rings: issue 14, item 8) and
// nothing is imported; the fixed file, in GCJ-02 (as Chinese map data usually is), previews and
// applies, and every imported corner lands within a metre of its WGS84 twin on the server. A grid
// ~8 km outside its community is a warning with the distance, to accept before it is imported. The forward WGS84 → GCJ-02 transform below is written
// independently of the Rust inverse the server uses, so the two check each other.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN, CITY, launchBrowser, pullAll, setupCity, signIn, startServer, waitAttr, waitFor,
} from './harness.mjs';

// The published GCJ-02 forward transform (Krasovsky ellipsoid constants).
const A = 6378245.0;
const EE = 0.00669342162296594323;
function tLat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  return r;
}
function tLon(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  return r;
}
function toGcj02([lon, lat]) {
  let dLat = tLat(lon - 105, lat - 35);
  let dLon = tLon(lon - 105, lat - 35);
  const rad = (lat / 180) * Math.PI;
  let magic = Math.sin(rad);
  magic = 1 - EE * magic * magic;
  const sq = Math.sqrt(magic);
  dLat = (dLat * 180) / (((A * (1 - EE)) / (magic * sq)) * Math.PI);
  dLon = (dLon * 180) / ((A / sq) * Math.cos(rad) * Math.PI);
  return [lon + dLon, lat + dLat];
}

function metres([ax, ay], [bx, by]) {
  const dx = ((bx - ax) * Math.PI) / 180 * Math.cos((ay * Math.PI) / 180) * 6371000;
  const dy = ((by - ay) * Math.PI) / 180 * 6371000;
  return Math.hypot(dx, dy);
}

/** A 0.01° square south of the test city's grids (they lie at 25.60–25.61). */
function square(lon, lat) {
  return [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]];
}

function file(features) {
  return Buffer.from(JSON.stringify({ type: 'FeatureCollection', features }), 'utf8');
}

function feature(code, ring) {
  return { type: 'Feature', properties: { GRID_CODE: code, GRID_NAME: `导入网格${code}`, COMM: 'C1' }, geometry: { type: 'Polygon', coordinates: [ring] } };
}

test('a GeoJSON import with a broken feature imports none; the fixed GCJ-02 file lands within a metre', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await signIn(page, server.url, ADMIN.username, ADMIN.password);
  await page.goto(`${server.url}/admin`);
  const form = page.locator('[data-testid=grid-import]');
  await form.locator('[name=prop_code]').fill('GRID_CODE');
  await form.locator('[name=prop_name]').fill('GRID_NAME');
  await form.locator('[name=prop_community]').fill('COMM');
  await form.locator('[name=crs]').selectOption('gcj02');

  const wgs = { N1: square(100.20, 25.58), N2: square(100.21, 25.58) };
  const gcj = (ring) => ring.map(toGcj02);
  assert.ok(metres(wgs.N1[0], gcj(wgs.N1)[0]) > 100, 'the GCJ-02 offset is real');
  const broken = gcj(wgs.N2).slice(0, 4); // an open ring
  await form.locator('[data-testid=import-file]').setInputFiles({
    name: 'grids.geojson', mimeType: 'application/geo+json', buffer: file([feature('N1', gcj(wgs.N1)), feature('N2', broken)]),
  });
  await waitFor(page, 'the check button', () => !document.querySelector('[data-testid=import-check]').disabled);
  await form.locator('[data-testid=import-check]').click();
  await waitFor(page, 'the problem list', () => document.querySelectorAll('[data-testid=import-problem]').length > 0);
  const problems = await form.locator('[data-testid=import-problem]').evaluateAll((els) => els.map((e) => [e.dataset.feature, e.textContent]));
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.equal(problems[0][0], '2', 'the broken (second) feature is named, counted from 1');
  assert.equal(problems[0][1], '第 2 个要素：第 1 个环未闭合：首尾两点不同', 'said in Chinese, counted from 1');
  assert.equal(await form.locator('[data-testid=import-apply]').count(), 0, 'nothing to apply');
  const gridsOnServer = async () => (await pullAll(server)).filter((r) => r.collection === 'grids');
  assert.equal((await gridsOnServer()).length, 3, 'none imported');

  // Fixed: preview (still nothing written), then apply.
  await form.locator('[data-testid=import-file]').setInputFiles({
    name: 'grids.geojson', mimeType: 'application/geo+json', buffer: file([feature('N1', gcj(wgs.N1)), feature('N2', gcj(wgs.N2))]),
  });
  await waitFor(page, 'the check button', () => !document.querySelector('[data-testid=import-check]').disabled);
  await form.locator('[data-testid=import-check]').click();
  await waitAttr(page, '[data-testid=import-preview]', 'data-new', '2');
  assert.equal(await form.locator('[data-testid=import-warnings]').count(), 0, 'next to their community: no warning');
  assert.equal(await form.locator('[data-testid=import-row]').count(), 2);
  assert.equal(await form.locator('[data-testid=import-preview] path').count(), 2, 'the preview draws both grids');
  assert.equal((await gridsOnServer()).length, 3, 'a preview writes nothing');
  await form.locator('[data-testid=import-apply]').click();
  await waitAttr(page, '[data-testid=import-applied]', 'data-n', '2');

  const grids = await gridsOnServer();
  assert.equal(grids.length, 5);
  for (const code of ['N1', 'N2']) {
    const g = grids.find((r) => r.fields.code?.value === code);
    assert.ok(g, `${code} was imported`);
    assert.equal(g.fields.community.value, CITY.community);
    assert.equal(g.fields.name.value, `导入网格${code}`);
    const ring = g.fields.boundary.value.coordinates[0];
    assert.equal(ring.length, 5);
    ring.forEach((p, i) => {
      const d = metres(p, wgs[code][i]);
      assert.ok(d < 1, `${code} corner ${i}: ${JSON.stringify(p)} is ${d.toFixed(2)} m from its WGS84 twin`);
    });
  }
});

test('a grid kilometres outside its community is a warning with the distance, imported only once accepted', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await signIn(page, server.url, ADMIN.username, ADMIN.password);
  await page.goto(`${server.url}/admin`);
  const form = page.locator('[data-testid=grid-import]');
  await form.locator('[name=prop_code]').fill('GRID_CODE');
  await form.locator('[name=prop_name]').fill('GRID_NAME');
  await form.locator('[name=prop_community]').fill('COMM');
  // C1's grids G1 and G2 span 100.20–100.22°E; FAR lies at 100.30°E: 0.08° ≈ 8.0 km east.
  await form.locator('[data-testid=import-file]').setInputFiles({
    name: 'grids.geojson', mimeType: 'application/geo+json',
    buffer: file([feature('NEAR', square(100.22, 25.59)), feature('FAR', square(100.30, 25.60))]),
  });
  await waitFor(page, 'the check button', () => !document.querySelector('[data-testid=import-check]').disabled);
  await form.locator('[data-testid=import-check]').click();
  await waitAttr(page, '[data-testid=import-preview]', 'data-new', '2');
  const warnings = await form.locator('[data-testid=import-warning]').evaluateAll((els) => els.map((e) => [e.dataset.feature, e.dataset.km, e.textContent]));
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.equal(warnings[0][0], '2', 'the second feature');
  assert.ok(Math.abs(Number(warnings[0][1]) - 8.0) <= 0.2, `about 8 km: ${warnings[0][1]}`);
  assert.equal(warnings[0][2], `第 2 个要素：网格 FAR 位于所属社区 C1 一社区 范围之外 ${warnings[0][1]} 公里：请核对社区编码和坐标系`);
  // Not importable until accepted.
  assert.ok(await form.locator('[data-testid=import-apply]').isDisabled(), 'apply waits for the warnings to be accepted');
  const gridsOnServer = async () => (await pullAll(server)).filter((r) => r.collection === 'grids');
  assert.equal((await gridsOnServer()).length, 3);
  await form.locator('[data-testid=import-accept]').check();
  await form.locator('[data-testid=import-apply]').click();
  await waitAttr(page, '[data-testid=import-applied]', 'data-n', '2');
  assert.equal((await gridsOnServer()).length, 5);
});
