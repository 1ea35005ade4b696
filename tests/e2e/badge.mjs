// Helpers for the sync badge: tests wait on completed rounds (`data-round`, `data-state`), never
// on the badge's words.

import { sel, waitFor } from './harness.mjs';

/** The rounds completed in this page so far (the badge's `data-round`). */
export async function roundOf(page) {
  return Number((await page.getAttribute(sel.badge, 'data-round')) ?? 0);
}

/**
 * Wait until a sync round has completed since the last local change and nothing waits
 * (`data-state=synced`), and, with `after`, until more than `after` rounds completed in the page.
 */
export function waitSynced(page, { after = 0, timeout } = {}) {
  return waitFor(
    page,
    `the badge synced after round ${after}`,
    ([s, n]) => {
      const b = document.querySelector(s);
      return b?.dataset.state === 'synced' && Number(b.dataset.round) > n;
    },
    [sel.badge, after],
    timeout,
  );
}

/**
 * Records every state the badge shows from the first frame of each page load (an init script
 * with a MutationObserver): `window.__badge` is a list of `{ state, waiting, text }`.
 */
export async function recordBadge(context) {
  await context.addInitScript(() => {
    window.__badge = [];
    const seen = () => {
      const b = document.querySelector('[data-testid=sync-badge]');
      if (!b) return;
      const entry = { state: b.dataset.state, waiting: b.dataset.waiting, text: b.textContent.trim() };
      const last = window.__badge[window.__badge.length - 1];
      if (!last || last.state !== entry.state || last.text !== entry.text || last.waiting !== entry.waiting) {
        window.__badge.push(entry);
      }
    };
    new MutationObserver(seen).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

/** What the badge showed so far in this page load. */
export function badgeHistory(page) {
  return page.evaluate(() => window.__badge);
}
