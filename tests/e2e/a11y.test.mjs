// Accessibility (issue 14): axe-core runs on every screen (screens.mjs: sign-in, home, cases,
// case detail, report form, visits, activities, sync panel, map, grid panel, dashboard, admin
// with the grid import) at 390×844 and 1,280×900, signed in with the role that uses the screen,
// and finds no serious or critical violation. Every failure names the rule, the elements and
// axe's advice, so the fix can be found from the test output alone.

import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { launchBrowser, startServer } from './harness.mjs';
import { ROLES, SIZES, openScreen, signInAs } from './screens.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The serious and critical violations axe finds on the page as it is now. */
async function violations(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        rule: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} — ${n.failureSummary.replace(/\s+/g, ' ')}`),
        more: Math.max(0, v.nodes.length - 4),
      }));
  });
}

test('every screen at both sizes has no serious or critical axe violation', async (t) => {
  const server = await startServer(t, { demo: true });
  const browser = await launchBrowser(t);
  const found = [];
  let checked = 0;
  for (const size of SIZES) {
    for (const role of ROLES) {
      const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
      const page = await context.newPage();
      await signInAs(page, server.url, role.user);
      const state = role.prepare ? await role.prepare(page, server.url) : {};
      for (const screen of role.screens) {
        await openScreen(page, server.url, screen, state);
        const v = await violations(page);
        checked += 1;
        if (v.length) found.push({ screen: `${role.role}/${screen.name}@${size.name}`, violations: v });
      }
      await context.close();
    }
  }
  const screens = ROLES.reduce((n, r) => n + r.screens.length, 0) * SIZES.length;
  assert.equal(checked, screens, 'every screen was checked');
  assert.ok(found.length === 0, `${found.length} screens with violations:\n${JSON.stringify(found, null, 1)}`);
});
