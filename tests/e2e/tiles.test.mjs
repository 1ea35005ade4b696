// The map's optional raster base layer (issue 7): with a tile URL configured, the city map
// draws the tiles under the grids from that server (the page's CSP admits its origin and no
// other), shows the attribution, and the layer can be switched off; without one, no tile is
// asked for and the plain background stays.

import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { DEMO_PASSWORD, eventually, launchBrowser, setChecked, signIn, startServer, waitFor, waitReady } from './harness.mjs';

/** A 1×1 PNG (a grey pixel). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==',
  'base64',
);

/** A tile server on a port-0 listener that records the tiles asked for. */
async function tileServer(t) {
  const asked = [];
  const server = http.createServer((req, res) => {
    const m = req.url.match(/^\/tiles\/(\d+)\/(\d+)\/(\d+)\.png$/);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    asked.push(m.slice(1).map(Number));
    res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' }).end(PNG);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { origin: `http://127.0.0.1:${server.address().port}`, asked };
}

test('a configured tile layer is drawn under the grids, attributed, and can be switched off', async (t) => {
  const tiles = await tileServer(t);
  const server = await startServer(t, {
    demo: true,
    args: ['--tile-url', `${tiles.origin}/tiles/{z}/{x}/{y}.png`, '--tile-attribution', '© 测试底图'],
  });
  // The page may load images from the tile server's origin (and still from no other).
  const csp = (await fetch(`${server.url}/`)).headers.get('content-security-policy');
  assert.match(csp, new RegExp(`img-src 'self' data: blob: ${tiles.origin.replace(/\./g, '\\.')};`));

  const browser = await launchBrowser(t);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page, server.url, 'city', DEMO_PASSWORD);
  await page.goto(`${server.url}/map`);
  await waitReady(page);
  await waitFor(page, 'the grids drawn', () => document.querySelectorAll('[data-testid=grid-shape]').length === 1200);
  await waitFor(page, 'tiles on the map', () => document.querySelectorAll('[data-testid=tile]').length > 0);
  const hrefs = await page.$$eval('[data-testid=tile]', (els) => els.map((e) => e.getAttribute('href')));
  for (const h of hrefs) assert.match(h, new RegExp(`^${tiles.origin}/tiles/\\d+/\\d+/\\d+\\.png$`));
  // The browser really fetched them (the CSP let them through), at the map's zoom, around Dali
  // (100.2°E, 25.6°N: at zoom z the tile column is (lon + 180) / 360 · 2^z).
  await eventually('the tile server to be asked', () => tiles.asked.length > 0);
  for (const [z, x] of tiles.asked) {
    const col = Math.floor(((100.2 + 180) / 360) * 2 ** z);
    assert.ok(Math.abs(x - col) <= 4, `tile ${z}/${x} is near Dali's column ${col}`);
  }
  // Tiles sit under the grids: the first tile comes before the first grid in the drawing.
  const order = await page.evaluate(() => {
    const tile = document.querySelector('[data-testid=tile]');
    const grid = document.querySelector('[data-testid=grid-shape]');
    return tile.compareDocumentPosition(grid) & Node.DOCUMENT_POSITION_FOLLOWING;
  });
  assert.ok(order, 'tiles are drawn before (under) the grids');
  assert.equal(await page.locator('[data-testid=tile-attribution]').textContent(), '© 测试底图');

  // Switched off: no tiles, no attribution; the grids stay.
  await setChecked(page, '[name=tiles]', false);
  await waitFor(page, 'no tiles', () => document.querySelectorAll('[data-testid=tile]').length === 0);
  assert.equal(await page.locator('[data-testid=tile-attribution]').count(), 0);
  assert.equal(await page.locator('[data-testid=grid-shape]').count(), 1200);
});

test('without a tile URL the map asks for no tiles and offers no switch', async (t) => {
  const server = await startServer(t, { demo: true });
  const csp = (await fetch(`${server.url}/`)).headers.get('content-security-policy');
  assert.match(csp, /img-src 'self' data: blob:;/);
  const browser = await launchBrowser(t);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page, server.url, 'city', DEMO_PASSWORD);
  await page.goto(`${server.url}/map`);
  await waitReady(page);
  await waitFor(page, 'the grids drawn', () => document.querySelectorAll('[data-testid=grid-shape]').length === 1200);
  assert.equal(await page.locator('[data-testid=tile]').count(), 0);
  assert.equal(await page.locator('[name=tiles]').count(), 0);
});
