// Tongxin service worker (template: `cargo xtask dist` fills in the version, the precache list
// of the shell it built and the list of lazily loaded modules, then writes dist/sw.js).
//
// Promise: once the app has loaded online, it loads offline, every screen opened once online opens
// offline, and an update never leaves it unavailable offline.
// - install:  put EVERY shell file into a new cache named after this build's version (the shell
//             includes the field screens' module, which every user needs offline). Files under
//             /assets/ are content-hashed: one already in an older cache is copied from there, so an
//             update downloads only what changed (so are the icons and the manifest whose hash in
//             HASHES is the one their cached copy carries), and the others come from the HTTP cache when the
//             page has just loaded them (a first visit downloads nothing twice; the page registers
//             this worker once its first screen is up). Lazy modules (the managers' screens) that an
//             older cache holds come along too: copied when unchanged, fetched anew when changed
//             (same name before the hash). If one file fails, the install fails and the old
//             worker (with its complete cache) stays.
// - activate: take control of open pages, and only then delete the caches of older versions.
// - fetch:    navigations are network-first (a new deploy shows on the next online load) with a
//             fallback to the cached /index.html (offline reload and deep links work); shell files
//             are cache-first; lazy modules are cache-first and stored on their first fetch;
//             /api/* is never touched.

const VERSION = '{{version}}';
const CACHE_PREFIX = 'tongxin-';
const CACHE = `${CACHE_PREFIX}${VERSION}`;
const PRECACHE = {{precache}};
const LAZY = {{lazy}};
// The content hash of each precached file whose name has none (icons, manifest): kept with the
// cached copy (HASH_HEADER), so that an update copies an unchanged one instead of fetching it.
const HASHES = {{hashes}};
const HASH_HEADER = 'x-tongxin-hash';
const PRECACHED = new Set(PRECACHE);
const LAZY_SET = new Set(LAZY);
const SHELL = '/index.html';
// On a very slow network, do not keep a warden staring at a blank page: after this long the
// cached shell is shown (the network answer, if it comes, goes to the HTTP cache only).
const NAVIGATION_TIMEOUT_MS = 4000;

// `/assets/map.0123abcd.wasm` → `/assets/map`: what stays the same when the content changes.
function stem(url) {
  return url.replace(/\.[0-9a-f]{8}\.[a-z]+$/, '');
}

async function oldCaches() {
  const names = await caches.keys();
  return Promise.all(
    names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE).map((n) => caches.open(n)),
  );
}

async function findIn(olds, url) {
  for (const cache of olds) {
    const hit = await cache.match(url);
    if (hit) return hit;
  }
  return undefined;
}

async function hasStem(olds, url) {
  const want = stem(url);
  for (const cache of olds) {
    for (const request of await cache.keys()) {
      const path = new URL(request.url).pathname;
      if (path !== url && stem(path) === want) return true;
    }
  }
  return false;
}

// How the install fetches a file: a content-hashed one may come from the HTTP cache (its name
// changes with its content); index.html bypasses it (`reload`), so an index.html from an older
// deploy is never stored under a newer version; the icons and the manifest are revalidated (they
// are fetched only when their hash in HASHES changed, or on a first install).
function cacheMode(url) {
  if (url.startsWith('/assets/')) return 'default';
  return url === SHELL ? 'reload' : 'no-cache';
}

async function fetchOk(url) {
  const cache = cacheMode(url);
  const response = await fetch(new Request(url, { cache }));
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

// A fetched file with no hash in its name, carrying the hash this version expects of it.
async function tagged(url, response) {
  if (!HASHES[url]) return response;
  const headers = new Headers(response.headers);
  headers.set(HASH_HEADER, HASHES[url]);
  return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const olds = await oldCaches();
      const entries = [];
      for (const url of PRECACHE) {
        const kept = url.startsWith('/assets/') || HASHES[url] ? await findIn(olds, url) : undefined;
        const same = kept && (url.startsWith('/assets/') || kept.headers.get(HASH_HEADER) === HASHES[url]);
        entries.push([url, same ? kept : fetchOk(url).then((response) => tagged(url, response))]);
      }
      for (const url of LAZY) {
        const kept = await findIn(olds, url);
        if (kept) entries.push([url, kept]);
        else if (await hasStem(olds, url)) entries.push([url, fetchOk(url)]);
      }
      // All files or none: every response is in hand before the cache is written.
      const responses = await Promise.all(entries.map(([, r]) => r));
      const cache = await caches.open(CACHE);
      await Promise.all(entries.map(([url], i) => cache.put(url, responses[i])));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      await self.clients.claim();
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE)
          .map((name) => caches.delete(name)),
      );
    })(),
  );
});

// A page that is still not controlled once this worker is active asks to be claimed: a page whose
// document was being committed while `activate` ran its claim is left out by it (the spec's race),
// and would otherwise stay uncontrolled (no offline reload) until its next navigation.
self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'claim') event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/sw.js') return;

  if (request.mode === 'navigate') {
    event.respondWith(navigate(request));
    return;
  }
  if (PRECACHED.has(url.pathname)) {
    event.respondWith(cacheFirst(request, url.pathname));
  } else if (LAZY_SET.has(url.pathname)) {
    event.respondWith(cacheFirstAndKeep(request, url.pathname));
  }
});

async function navigate(request) {
  const network = fetch(request);
  // If the timeout wins, a later network failure must not surface as an unhandled rejection.
  network.catch(() => {});
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, NAVIGATION_TIMEOUT_MS, null);
  });
  try {
    const response = await Promise.race([network, timeout]);
    if (response) return response;
  } catch (_offline) {
    // Fall through to the cached shell.
  } finally {
    clearTimeout(timer);
  }
  const cached = await cachedShell();
  if (cached) return cached;
  // Nothing cached yet (first visit): the network is all there is.
  return network;
}

// Lookups use caches.match (with cacheName) rather than caches.open: opening a cache creates it,
// and an old worker must not re-create the cache its successor has just deleted.
async function cachedShell() {
  return (await caches.match(SHELL, { cacheName: CACHE })) || (await caches.match(SHELL));
}

async function cacheFirst(request, pathname) {
  // Fall back to any tongxin cache: a page loaded just before an update may still ask for a file
  // of its own version while the new worker is activating.
  const cached = (await caches.match(pathname, { cacheName: CACHE })) || (await caches.match(pathname));
  if (cached) return cached;
  return fetch(request);
}

// A lazy module: from the cache, or fetched once and kept for offline use.
async function cacheFirstAndKeep(request, pathname) {
  const cached = (await caches.match(pathname, { cacheName: CACHE })) || (await caches.match(pathname));
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    // Only into this version's cache, and only while it is still the current one.
    if (await caches.has(CACHE)) await (await caches.open(CACHE)).put(pathname, copy);
  }
  return response;
}
