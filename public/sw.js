// Tongxin service worker (template: `cargo xtask dist` fills in the version and the precache list
// of every file it built, then writes dist/sw.js).
//
// Promise: once the app has loaded online, it loads offline, and an update never leaves it
// unavailable offline.
// - install:  cache EVERY built file into a new cache named after this build's version. If one
//             file fails, the install fails and the old worker (with its complete cache) stays.
// - activate: take control of open pages, and only then delete the caches of older versions.
// - fetch:    navigations are network-first (a new deploy shows on the next online load) with a
//             fallback to the cached /index.html (offline reload and deep links work); precached
//             files are cache-first (their names are content-hashed); /api/* is never touched.

const VERSION = '{{version}}';
const CACHE_PREFIX = 'tongxin-';
const CACHE = `${CACHE_PREFIX}${VERSION}`;
const PRECACHE = {{precache}};
const PRECACHED = new Set(PRECACHE);
const SHELL = '/index.html';
// On a very slow network, do not keep a warden staring at a blank page: after this long the
// cached shell is shown (the network answer, if it comes, goes to the HTTP cache only).
const NAVIGATION_TIMEOUT_MS = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // `reload` bypasses the HTTP cache so an index.html from an older deploy is never stored
      // under a newer version. addAll is atomic: all files or none.
      await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })));
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
