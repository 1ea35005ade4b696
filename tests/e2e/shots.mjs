// Screenshots of every screen (screens.mjs) at 390×844 and 1,280×900, each signed in with the
// role that uses it, on the demo city: `cargo xtask shots` builds the app and the server and
// runs this with TONGXIN_BIN, TONGXIN_DIST and TONGXIN_SHOTS_DIR set (target/shots by default).
// Files are named `<size>-<role>-<screen>.png`; the page is shot whole (up to 6,000 px high).
//
// Not a test: it asserts nothing beyond each screen drawing. Needs a CJK font installed
// (`cargo xtask shots` installs fonts-noto-cjk) or the Chinese text shows as boxes.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchBrowser, startServer } from './harness.mjs';
import { ROLES, SIZES, openScreen, signInAs } from './screens.mjs';

const outDir = process.env.TONGXIN_SHOTS_DIR || path.resolve('shots');
const months = Number(process.env.TONGXIN_SHOTS_MONTHS ?? 1);
/** The longest part of a page that is shot, px. */
const MAX_HEIGHT = 6000;

// startServer and launchBrowser clean up through a test context's `after`; this is the same
// for a plain script.
const cleanups = [];
const ctx = { after: (f) => cleanups.push(f) };

async function main() {
  await mkdir(outDir, { recursive: true });
  const server = await startServer(ctx, { demo: true, demoMonths: months, log: 'warn' });
  const browser = await launchBrowser(ctx);
  const written = [];
  for (const size of SIZES) {
    for (const role of ROLES) {
      const context = await browser.newContext({ viewport: { width: size.width, height: size.height }, locale: 'zh-CN' });
      const page = await context.newPage();
      await signInAs(page, server.url, role.user);
      const state = role.prepare ? await role.prepare(page, server.url) : {};
      for (const screen of role.screens) {
        await openScreen(page, server.url, screen, state);
        // From the top (a sticky header would otherwise sit mid-page in a full-page shot);
        // animations (flashes, spinners) are stilled so the shot is what stays.
        await page.evaluate(() => window.scrollTo(0, 0));
        const file = path.join(outDir, `${size.name}-${role.role}-${screen.name}.png`);
        // A very long page (a whole city's list) is cut at MAX_HEIGHT px.
        const height = Math.min(MAX_HEIGHT, await page.evaluate(() => document.documentElement.scrollHeight));
        await page.screenshot({
          path: file, fullPage: true, animations: 'disabled', timeout: 120000, clip: { x: 0, y: 0, width: size.width, height },
        });
        written.push(file);
        console.log(`shots: ${file}`);
      }
      await context.close();
    }
  }
  console.log(`shots: ${written.length} screenshots in ${outDir}`);
}

try {
  await main();
} finally {
  for (const f of cleanups.reverse()) {
    await f();
  }
}
