// Position and grid (issue 6): the app asks for the GPS position and decides the grid by
// point-in-polygon over the grids on the device, offline; a rough fix, a position in someone
// else's grid or outside every grid leaves the pick to the user, with the reason and accuracy
// shown. The saved case carries the position and the grid.
// (`setupCity` gives the test grids square boundaries; `SPOTS` are points inside or outside them.)

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  CITY, SPOTS, fieldValues, launchBrowser, sel, serverCase, setupCity, signIn, startServer, waitAttr, waitFor,
  waitReady, waitText, goOffline
} from './harness.mjs';
import { waitSynced } from './badge.mjs';

async function locate(page, geolocation, expected) {
  await page.context().setGeolocation(geolocation);
  await page.locator('[data-testid=locate]').click();
  await waitFor(
    page,
    `the position message to mention ${expected}`,
    (want) => document.querySelector('[data-testid=located]')?.textContent.includes(want),
    expected,
  );
}

test('GPS decides the grid offline; poor or foreign positions ask for a manual pick', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const browser = await launchBrowser(t);
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    permissions: ['geolocation'],
    geolocation: { ...SPOTS.g1, accuracy: 12 },
  });
  const page = await context.newPage();
  await signIn(page, server.url, 'wa');
  await waitSynced(page); // the grids (with boundaries) are local now
  await goOffline(page);
  await page.goto(`${server.url}/cases/new`);
  await waitReady(page);

  // G3 is another community's grid: not on this warden's device, so outside their area.
  await locate(page, { ...SPOTS.g3, accuracy: 12 }, '不在您辖区的网格内');
  await locate(page, { ...SPOTS.nowhere, accuracy: 13 }, '不在您辖区的网格内（±13');
  await locate(page, { ...SPOTS.g1, accuracy: 500 }, '±500');
  await locate(page, { ...SPOTS.g1, accuracy: 12 }, '第一网格');

  await page.locator('form [name=title]').fill('路面塌陷（定位）');
  await page.locator('form [name=category]').selectOption('safety');
  await page.locator(sel.save).click();
  await waitText(page, sel.caseTitle, '路面塌陷（定位）');
  await context.setOffline(false);
  const fields = fieldValues(await serverCase(server, { title: '路面塌陷（定位）' }));
  assert.equal(fields.grid, CITY.g1);
  assert.deepEqual(fields.position, [SPOTS.g1.longitude, SPOTS.g1.latitude, 12]);
});
