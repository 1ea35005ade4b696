// The managers' live map (issue 7, first part): the city manager's map shows every demo grid;
// a warden's push from another browser recolours the right grid on it without a reload (the
// live stream pokes, the pull lands, the grid changes colour and flashes); the legend explains
// the colours; a grid can be selected for its figures.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  DEMO_PASSWORD, WAIT_MS, api, fieldValues, fillCase, pullAll, launchBrowser, login, signIn, startServer, waitAttr, waitFor, waitReady, waitText,
  setChecked,
} from './harness.mjs';

test('the city map shows every grid and recolours live when a warden pushes', async (t) => {
  const server = await startServer(t, { demo: true });
  const token = await login(server.url, 'w0001', DEMO_PASSWORD);
  const me = await api(server.url, token, 'GET', '/api/v1/auth/me');
  const grid = me.grids[0];

  const browser = await launchBrowser(t);
  const manager = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(manager, server.url, 'city', DEMO_PASSWORD);
  await manager.goto(`${server.url}/map`);
  await waitReady(manager);
  await waitFor(manager, 'all 1,200 demo grids drawn', () => document.querySelectorAll('[data-testid=grid-shape]').length === 1200);
  await waitAttr(manager, '[data-testid=map-live]', 'data-live', 'true');
  const shape = `[data-testid=grid-shape][data-id="${grid}"]`;
  await waitAttr(manager, shape, 'data-value', '0');
  // The whole city in view: the five subdistrict names.
  await waitFor(manager, 'the subdistrict names', () => document.querySelectorAll('[data-testid=map-label][data-kind=subdistrict]').length === 5);
  const before = await manager.getAttribute(shape, 'data-colour');
  assert.ok((await manager.locator('[data-testid=legend] li').count()) >= 4, 'a legend');

  // The warden reports a case in their grid from another browser.
  const warden = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(warden, server.url, 'w0001', DEMO_PASSWORD);
  await warden.goto(`${server.url}/cases/new`);
  await waitReady(warden);
  await fillCase(warden, { title: '路口积水', description: '下雨后积水严重', category: 'infrastructure' });

  // No reload on the manager's page: the grid recolours and flashes.
  await waitAttr(manager, shape, 'data-value', '1');
  await waitFor(manager, 'the grid highlighted', (s) => document.querySelector(s)?.classList.contains('flash'), shape);
  assert.notEqual(await manager.getAttribute(shape, 'data-colour'), before, 'the colour changed');

  // Selecting the grid shows its figures.
  await manager.locator(shape).dispatchEvent('click');
  await waitAttr(manager, '[data-testid=grid-panel]', 'data-id', grid);
  await waitAttr(manager, '[data-testid=panel-figures]', 'data-open', '1');
  await waitFor(manager, 'the grid\'s warden named', (n) => document.querySelector('[data-testid=panel-wardens]')?.textContent.includes(n), me.display_name);
  await waitText(manager, '[data-testid=panel-case]', '路口积水');

  // The panel links into the case list filtered to the grid.
  const listed = await manager.getAttribute('[data-testid=panel-cases-link]', 'href');
  assert.equal(listed, `/cases?grid=${grid}`);

  // Keyboard zoom changes the view.
  const transform = () => manager.evaluate(() => document.querySelector('[data-testid=map] g').getAttribute('transform'));
  const t0 = await transform();
  await manager.locator('[data-testid=map]').focus();
  await manager.keyboard.press('+');
  await waitFor(manager, 'the map zoomed', (t) => document.querySelector('[data-testid=map] g').getAttribute('transform') !== t, t0);
  await waitText(manager, 'h1', '一张图');

  // A two-finger pinch (touch pointers) zooms in: the fingers move apart.
  const scale = async () => Number((await transform()).match(/matrix\(([\d.e+-]+)/)[1]);
  const s0 = await scale();
  const box = await manager.locator('[data-testid=map]').boundingBox();
  const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
  const touch = (type, pointerId, x, y) => manager.locator('[data-testid=map]').dispatchEvent(type, { pointerId, pointerType: 'touch', isPrimary: pointerId === 1, clientX: x, clientY: y, bubbles: true });
  await touch('pointerdown', 1, cx - 20, cy);
  await touch('pointerdown', 2, cx + 20, cy);
  await touch('pointermove', 2, cx + 60, cy);
  await touch('pointermove', 1, cx - 60, cy);
  await touch('pointerup', 1, cx - 60, cy);
  await touch('pointerup', 2, cx + 60, cy);
  const s1 = await scale();
  assert.ok(s1 > s0 * 2.5, `pinching from 40 px to 120 px apart zooms about 3x: ${s0} -> ${s1}`);

  // Community and subdistrict outlines with their names over the grids.
  assert.equal(await manager.locator('[data-testid=area][data-level=community]').count(), 44);
  assert.equal(await manager.locator('[data-testid=area][data-level=subdistrict]').count(), 5);
  // (The five subdistrict names were on the whole-city view; zoomed in, some are off screen.)
  // Zoomed in on one community, names never overlap one another (lower-priority ones move
  // aside or wait for more room).
  const overlapping = () => manager.evaluate(() => {
    const boxes = [...document.querySelectorAll('[data-testid=map-label]')].map((e) => e.getBoundingClientRect());
    const hits = [];
    boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b) => {
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) hits.push([a.x, a.y, b.x, b.y]);
    }));
    return { labels: boxes.length, hits };
  });
  await manager.locator('[data-testid=map]').focus();
  for (let i = 0; i < 4; i += 1) await manager.keyboard.press('+');
  const zoomed = await overlapping();
  assert.ok(zoomed.labels > 0, 'names are drawn when zoomed in');
  assert.deepEqual(zoomed.hits, [], 'no two names overlap');
  assert.ok(await manager.locator('[data-testid=map-label][data-kind=community]').count() > 0, 'community names at this zoom');
  for (let i = 0; i < 4; i += 1) await manager.keyboard.press('-');

  // The service network (1+5+44) and the 15-minute circles of the 44 community centres.
  await waitFor(manager, 'the 50 service centres', () => document.querySelectorAll('[data-testid=centre]').length === 50);
  assert.equal(await manager.locator('[data-testid=centre][data-level=community]').count(), 44);
  // Their legend, and the names of the city and subdistrict centres on the map.
  assert.equal(await manager.locator('[data-testid=centre-legend] li[data-level]').count(), 3);
  assert.ok(await manager.locator('[data-testid=map-label][data-kind=centre]').count() >= 1, 'centres are named');
  await setChecked(manager, '[name=reach]', true);
  await waitFor(manager, '44 reach circles', () => document.querySelectorAll('[data-testid=centre] .reach').length === 44);
  await waitFor(manager, 'the grids beyond reach', () => Number(document.querySelector('[data-testid=outside-count]')?.dataset.n) > 0);
  await waitFor(manager, 'the reach in the legend', () => document.querySelector('[data-testid=legend-reach]') !== null);
  // With the long list of grids open, picking a grid shows its panel in view, not below it.
  await manager.locator('[data-testid=grid-picker]').selectOption(grid);
  await waitAttr(manager, '[data-testid=grid-panel]', 'data-id', grid);
  await waitFor(manager, 'the panel in view', () => {
    const r = document.querySelector('[data-testid=grid-panel]').getBoundingClientRect();
    return r.top >= 0 && r.top < window.innerHeight - 100;
  });
  const beyond = await manager.evaluate(() => [...document.querySelectorAll('[data-testid=outside-grid]')].map((e) => e.dataset.id));
  for (const id of beyond.slice(0, 5)) {
    assert.equal(await manager.locator(`[data-testid=grid-shape][data-id="${id}"]`).count(), 1, 'a listed grid is on the map');
  }

  // GeoJSON export of the grids with their current state.
  const [download] = await Promise.all([manager.waitForEvent('download'), manager.locator('[data-testid=export-geojson]').click()]);
  const geo = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(geo.type, 'FeatureCollection');
  assert.equal(geo.features.length, 1200);
  const exported = geo.features.find((f) => f.id === grid);
  assert.equal(exported.geometry.type, 'Polygon');
  assert.equal(exported.properties.open_cases, 1);

  // The city dashboard lists every community with its alliance units (同心圆): the sum is the
  // number of alliances in the database.
  const alliances = (await pullAll(server)).filter((r) => r.collection === 'alliances' && !fieldValues(r).deleted).length;
  await manager.goto(`${server.url}/dashboard`);
  await waitReady(manager);
  await waitAttr(manager, '[data-testid=cadence]', 'data-rows', '44');
  const sum = await manager.evaluate(() => [...document.querySelectorAll('[data-testid=cadence] tbody tr')].reduce((a, tr) => a + Number(tr.lastElementChild.textContent), 0));
  assert.ok(alliances > 0, 'the demo city has alliance units (a sum of 0 against 0 would prove nothing)');
  assert.equal(sum, alliances);

  // The grid's case list, as the panel links it.
  await manager.goto(`${server.url}${listed}`);
  await waitReady(manager);
  await waitAttr(manager, '[data-testid=cases-count]', 'data-shown', '1');
});

// Issue 14: while the device has not finished its first sync, a grid's cases may not have
// arrived: the map must not colour it "0 open" (or "31+ days"). The pulls after the first page
// are held back; the grids drawn meanwhile are hatched as loading, a status line says so and the
// legend explains the hatch; once the pulls go through, every grid takes its real colour. The
// grid panel shows its loading line the moment a grid is picked.
test('the map shows grids as loading, never a false colour, until their states are known', async (t) => {
  const server = await startServer(t, { demo: true });
  const browser = await launchBrowser(t);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // What the grid panel showed when it first appeared (recorded from the first frame).
  await context.addInitScript(() => {
    new MutationObserver(() => {
      const panel = document.querySelector('[data-testid=grid-panel]');
      if (panel && !window.__panelFirst) {
        window.__panelFirst = {
          loading: panel.querySelector('[data-testid=panel-loading]') !== null,
          figures: panel.querySelector('[data-testid=panel-figures]') !== null,
        };
      }
    }).observe(document, { subtree: true, childList: true });
  });
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  let secondPull;
  const firstPageStored = new Promise((resolve) => { secondPull = resolve; });
  let pulls = 0;
  await context.route('**/api/v1/sync/pull**', async (route) => {
    pulls += 1;
    if (pulls > 1) {
      // The app asks for the second page once the first is stored on the device.
      secondPull();
      await gate;
    }
    await route.continue().catch(() => {}); // the app may have given up on it meanwhile
  });
  const page = await context.newPage();
  await signIn(page, server.url, 'city', DEMO_PASSWORD);
  await firstPageStored;
  await page.locator('nav a[href="/map"]').click();
  await waitFor(page, 'grids from the first page drawn', () => document.querySelectorAll('[data-testid=grid-shape]').length > 0);
  await waitFor(page, 'the loading line', () => document.querySelector('[data-testid=map-loading]') !== null);
  const drawn = await page.evaluate(() => [...document.querySelectorAll('[data-testid=grid-shape]')].map((g) => ({
    colour: g.dataset.colour, value: g.getAttribute('data-value'), fill: g.getAttribute('fill'), loading: g.classList.contains('loading'),
  })));
  assert.ok(drawn.length < 1200, `the first page holds part of the city (${drawn.length} grids)`);
  for (const g of drawn) {
    assert.deepEqual(g, { colour: 'loading', value: null, fill: 'url(#grid-loading)', loading: true }, 'no grid claims a figure');
  }
  assert.equal(await page.locator('[data-testid=legend-loading]').count(), 1, 'the legend explains the hatch');
  assert.equal(await page.locator('[data-testid=export-geojson]').isDisabled(), true, 'no export of unknown states');
  assert.equal(await page.getAttribute('.map-frame', 'aria-busy'), 'true');

  // A grid picked now opens its panel at once, with its loading line first.
  const first = await page.evaluate(() => document.querySelector('[data-testid=grid-shape]').dataset.id);
  await page.locator('[data-testid=grid-picker]').selectOption(first);
  await waitAttr(page, '[data-testid=grid-panel]', 'data-id', first);
  assert.deepEqual(await page.evaluate(() => window.__panelFirst), { loading: true, figures: false });

  // The pulls go through: every grid is drawn with its real state, and the loading is gone.
  release();
  // The rest of the city's pull (a few thousand records into IndexedDB) on a busy machine.
  await waitFor(page, 'all 1,200 grids', () => document.querySelectorAll('[data-testid=grid-shape]').length === 1200, undefined, 4 * WAIT_MS);
  await waitFor(page, 'the loading line gone', () => document.querySelector('[data-testid=map-loading]') === null);
  await waitFor(page, 'every grid coloured', () => [...document.querySelectorAll('[data-testid=grid-shape]')].every((g) => g.dataset.colour !== 'loading' && g.dataset.value === '0'));
  assert.equal(await page.locator('[data-testid=legend-loading]').count(), 0);
  await waitAttr(page, '[data-testid=panel-figures]', 'data-open', '0');
  assert.equal(await page.locator('[data-testid=export-geojson]').isDisabled(), false);
});
