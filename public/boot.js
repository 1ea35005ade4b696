// Tongxin boot script (template: xtask fills in the content-hashed asset URLs).
// Loaded as an external module from index.html: no inline script, so a strict CSP can forbid them.
// It starts the wasm app, registers the service worker and asks for persistent storage.
import init from '{{app.js}}';

const wasmUrl = '{{app.wasm}}';
// The split modules' hashed files, by name, for wasm-split's loader (read when a module loads):
// a changed module renames only itself and this script, not the glue and the loader.
globalThis.__tongxinSplitModules = {{split.modules}};

// The service worker makes the app load offline. It is registered once the app shows its first
// screen (`#app[data-ready=true]`): installing it fetches the whole shell, including the field
// screens' module, and on a first visit over a slow link those bytes must not compete with the
// sign-in's. An app that fails to start registers it at once (so that a worker can deliver a fixed
// version), and so does one that has shown nothing after REGISTER_LATEST_MS.
// `updateViaCache: 'none'` makes the browser check /sw.js against the server on every navigation
// (a new deploy is found at once).
const REGISTER_LATEST_MS = 20000;
let registered = false;
function registerWorker() {
  if (registered || !('serviceWorker' in navigator)) return;
  registered = true;
  navigator.serviceWorker
    .register('/sw.js', { scope: '/', updateViaCache: 'none' })
    .then(() => navigator.serviceWorker.ready)
    .then((reg) => {
      // Active but not in control of this page (it missed the worker's claim): ask again.
      if (!navigator.serviceWorker.controller && reg.active) reg.active.postMessage({ type: 'claim' });
    })
    .catch((err) => console.warn('tongxin: service worker registration failed', err));
}
const shown = new MutationObserver(() => {
  if (document.querySelector('#app[data-ready=true]')) {
    shown.disconnect();
    registerWorker();
  }
});
shown.observe(document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready'] });
setTimeout(registerWorker, REGISTER_LATEST_MS);

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
  registerWorker();
}
