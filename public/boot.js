// Tongxin boot script (template: xtask fills in the content-hashed asset URLs).
// Loaded as an external module from index.html: no inline script, so a strict CSP can forbid them.
// It starts the wasm app, registers the service worker and asks for persistent storage.
import init from '{{app.js}}';

const wasmUrl = '{{app.wasm}}';

// The service worker makes the app load offline. Register it first so that an app that fails to
// start still gets a worker that can deliver a fixed version. `updateViaCache: 'none'` makes the
// browser check /sw.js against the server on every navigation (a new deploy is found at once).
if ('serviceWorker' in navigator) {
  navigator.serviceWorker
    .register('/sw.js', { scope: '/', updateViaCache: 'none' })
    .catch((err) => console.warn('tongxin: service worker registration failed', err));
}

// A warden's unsent work lives in IndexedDB: ask the browser not to evict it under storage
// pressure. Browsers may grant this silently, prompt, or refuse; the app works in every case.
if (navigator.storage && navigator.storage.persist) {
  navigator.storage
    .persisted()
    .then((persisted) => persisted || navigator.storage.persist())
    .catch((err) => console.warn('tongxin: persistent storage request failed', err));
}

try {
  await init({ module_or_path: wasmUrl });
} catch (err) {
  console.error('tongxin: the app failed to start', err);
  document.body.dataset.bootError = 'true';
  const box = document.createElement('p');
  box.className = 'boot-error';
  box.textContent = '同心无法启动，请刷新页面。 / Tongxin could not start; please reload the page.';
  document.body.append(box);
}
