// Benchmark (issue 13): what an app update downloads. Reports figures; asserts nothing.
//
// Run by hand with two builds of `dist/`, the second after changing one screen:
//   cargo xtask dist && cp -a dist /tmp/dist-old
//   (change one screen) && cargo xtask dist
//   cd tests/e2e && TONGXIN_BIN=../../target/debug/tongxin TONGXIN_DIST=/tmp/dist-old \
//     TONGXIN_DIST_NEW=../../dist node bench/update.mjs
//
// 1. Which content-hashed files differ between the two builds (raw and brotli bytes).
// 2. An administrator's browser (every lazy module prefetched, so the old caches hold all of
//    them) on the old build, through a counting proxy; the new build is deployed into the served
//    directory; a reload shows the new version and installs the new service worker. Printed:
//    every non-API request that reached the server from then until the new version's cache is
//    the only one (the page's and the worker's alike: what the update cost on the wire), its
//    status and the body bytes as sent (compressed).

import http from 'node:http';
import { readdir, readFile, rm, cp, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { ADMIN, copyDist, ensureControlled, eventually, launchBrowser, signIn, startServer, waitReady } from '../harness.mjs';

/** A pass-through HTTP proxy in front of `upstream` that logs every finished exchange. */
async function countingProxy(upstream) {
  const log = [];
  const proxy = http.createServer((req, res) => {
    const url = new URL(req.url, upstream);
    const up = http.request(url, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      let bytes = 0;
      answer.on('data', (chunk) => {
        bytes += chunk.length;
        res.write(chunk);
      });
      answer.on('end', () => {
        res.end();
        log.push({ path: url.pathname, status: answer.statusCode, bytes });
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => proxy.close(resolve)));
  cleanups.push(() => proxy.closeAllConnections());
  return { url: `http://127.0.0.1:${proxy.address().port}`, log };
}

const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };

async function assets(dist) {
  const out = new Map();
  for (const name of await readdir(path.join(dist, 'assets'))) {
    if (name.endsWith('.br') || name.endsWith('.gz')) continue;
    const raw = (await stat(path.join(dist, 'assets', name))).size;
    const br = await stat(path.join(dist, 'assets', `${name}.br`)).then((s) => s.size, () => raw);
    out.set(name, { raw, br });
  }
  return out;
}

async function swVersion(dist) {
  return (await readFile(path.join(dist, 'sw.js'), 'utf8')).match(/const VERSION = '([^']+)'/)[1];
}

try {
  const oldDist = process.env.TONGXIN_DIST;
  const newDist = process.env.TONGXIN_DIST_NEW;
  if (!newDist) throw new Error('set TONGXIN_DIST_NEW to the second build (see the top of this file)');
  const [before, after] = [await assets(oldDist), await assets(newDist)];
  const stem = (name) => name.replace(/\.[0-9a-f]{8}\.[a-z]+$/, '');
  console.log('update: content-hashed files of the new build:');
  let changedBr = 0;
  for (const [name, { raw, br }] of after) {
    const same = before.has(name);
    if (!same) changedBr += br;
    const was = [...before.keys()].find((n) => stem(n) === stem(name) && n !== name);
    console.log(`  ${same ? 'same   ' : was ? 'changed' : 'new    '} ${String(raw).padStart(9)} raw ${String(br).padStart(8)} br  ${name}`);
  }
  console.log(`update: ${changedBr} B brotli in files whose name changed`);

  const dist = await copyDist(t);
  const server = await startServer(t, { dist });
  const proxy = await countingProxy(server.url);
  const browser = await launchBrowser(t);
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, proxy.url, ADMIN.username, ADMIN.password);
  await ensureControlled(page);
  const lazy = JSON.parse(
    (await readFile(path.join(oldDist, 'sw.js'), 'utf8')).split('\n').find((l) => l.startsWith('const LAZY = ')).slice(13).replace(/;$/, ''),
  );
  await eventually('every lazy module prefetched', () =>
    page.evaluate(async (urls) => {
      const cached = [];
      for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) cached.push(new URL(r.url).pathname);
      return urls.every((u) => cached.includes(u));
    }, lazy));

  // Deploy the new build into the served directory.
  for (const name of await readdir(dist)) await rm(path.join(dist, name), { recursive: true, force: true });
  await cp(newDist, dist, { recursive: true });
  // Last-Modified has one-second resolution: mark the deploy as later than the first load.
  const later = new Date(Date.now() + 60_000);
  for (const name of ['index.html', 'sw.js']) await utimes(path.join(dist, name), later, later);

  const from = proxy.log.length;
  const version = await swVersion(newDist);
  await page.reload();
  await waitReady(page);
  await eventually('the new version installed and the old cache gone', () =>
    page.evaluate((v) => caches.keys().then((k) => k.length === 1 && k[0] === `tongxin-${v}`), version));
  const fetched = proxy.log.slice(from).filter((f) => !f.path.startsWith('/api/'));
  let total = 0;
  console.log('update: what reached the server from the reload until the new version was installed:');
  for (const f of fetched.sort((a, b) => a.path.localeCompare(b.path))) {
    total += f.bytes;
    console.log(`  ${String(f.bytes).padStart(9)} B  ${f.status}  ${f.path}`);
  }
  console.log(`update: ${fetched.length} requests, ${total} B of bodies`);
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
