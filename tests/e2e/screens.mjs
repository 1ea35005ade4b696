// Every screen of the app, by role, as the accessibility test (a11y.test.mjs) checks them and the
// screenshot script (shots.mjs, `cargo xtask shots`) photographs them, on the demo city. A
// screen is a path (or a step after one, e.g. opening the sync panel) and a DOM condition that
// says it has finished drawing.

import { DEMO_PASSWORD, caseIdByTitle, fillCase, signIn, waitFor, waitReady } from './harness.mjs';
import { waitSynced } from './badge.mjs';

/** The two sizes every screen is checked at: a phone, and a desktop. */
export const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 900 },
];

const h1 = (page) => waitFor(page, 'the screen heading', () => document.querySelector('main h1') !== null);

/** The map has drawn every grid with its known state, and (optionally) a grid's panel. */
async function mapReady(page) {
  await waitFor(page, 'the map loaded', () => {
    const grids = document.querySelectorAll('[data-testid=grid-shape]');
    return grids.length > 0 && !document.querySelector('[data-testid=map-loading]') && grids[0].dataset.colour !== 'loading';
  });
}

async function panelReady(page) {
  await mapReady(page);
  const id = await page.evaluate(() => document.querySelector('[data-testid=grid-shape]').dataset.id);
  await page.locator('[data-testid=grid-picker]').selectOption(id);
  await waitFor(page, 'the grid panel loaded', () => document.querySelector('[data-testid=panel-figures]') !== null);
}

/**
 * Roles, each with its demo account and its screens. `path` may be a function of what
 * `prepare` found (the warden's case id). `ready(page)` resolves when the screen is drawn.
 */
export const ROLES = [
  {
    role: 'signed-out',
    user: null,
    screens: [{ name: 'login', path: '/login', ready: (p) => waitFor(p, 'the sign-in form', () => document.querySelector('[data-testid=login-form]') !== null) }],
  },
  {
    role: 'warden',
    user: 'w0001',
    // A case of the warden's own, for the case detail.
    async prepare(page, base) {
      await page.goto(`${base}/cases/new`);
      await waitReady(page);
      const title = `井盖松动 ${Date.now() % 100000}`;
      await fillCase(page, { title, description: '人行道井盖松动，有绊倒风险', category: 'infrastructure' });
      await page.goto(`${base}/cases`);
      await waitReady(page);
      return { caseId: await caseIdByTitle(page, title) };
    },
    screens: [
      { name: 'home', path: '/', ready: (p) => waitFor(p, 'today', () => document.querySelector('[data-testid=today]') !== null) },
      { name: 'cases', path: '/cases', ready: (p) => waitFor(p, 'the case count', () => document.querySelector('[data-testid=cases-count]') !== null) },
      { name: 'case-new', path: '/cases/new', ready: h1 },
      { name: 'case-detail', path: (s) => `/cases/${s.caseId}`, ready: (p) => waitFor(p, 'the timeline', () => document.querySelector('[data-testid=timeline]') !== null) },
      { name: 'visits', path: '/visits', ready: h1 },
      { name: 'visit-new', path: '/visits/new', ready: (p) => waitFor(p, 'the visit form', () => document.querySelector('[data-testid=visit-form]') !== null) },
      { name: 'activities', path: '/activities', ready: h1 },
      {
        name: 'sync-panel',
        path: '/',
        ready: async (p) => {
          await waitSynced(p);
          await p.locator('[data-testid=sync-badge]').click();
          await waitFor(p, 'the sync panel', () => document.querySelector('.panel[role=dialog]') !== null);
        },
      },
    ],
  },
  {
    role: 'community-manager',
    user: 'c01',
    screens: [
      { name: 'home', path: '/', ready: (p) => waitFor(p, 'the signed-in header', () => document.querySelector('[data-testid=whoami]') !== null) },
      { name: 'activity-new', path: '/activities/new', ready: (p) => waitFor(p, 'the activity form', () => document.querySelector('[data-testid=activity-form]') !== null) },
      { name: 'dashboard', path: '/dashboard', ready: (p) => waitFor(p, 'the figures', () => document.querySelector('[data-testid=fig-reported]') !== null) },
    ],
  },
  {
    role: 'city-manager',
    user: 'city',
    screens: [
      { name: 'map', path: '/map', ready: mapReady },
      { name: 'map-grid-panel', path: '/map', ready: panelReady },
      { name: 'dashboard', path: '/dashboard', ready: (p) => waitFor(p, 'the figures', () => document.querySelector('[data-testid=fig-reported]') !== null) },
      { name: 'cases', path: '/cases', ready: (p) => waitFor(p, 'the case count', () => document.querySelector('[data-testid=cases-count]') !== null) },
    ],
  },
  {
    role: 'admin',
    user: 'admin',
    screens: [
      { name: 'admin-users-import', path: '/admin', ready: (p) => waitFor(p, 'the users and the grid import', () => document.querySelector('[data-testid=admin-users]') !== null && document.querySelector('[data-testid=grid-import]') !== null) },
    ],
  },
];

/** Signs `user` in on a fresh page (the demo password), and waits for the first sync. */
export async function signInAs(page, base, user) {
  if (!user) return;
  await signIn(page, base, user, DEMO_PASSWORD);
  await waitSynced(page);
}

/** Opens `screen` (after `prepare`'s `state`) and waits until it is drawn. */
export async function openScreen(page, base, screen, state = {}) {
  const path = typeof screen.path === 'function' ? screen.path(state) : screen.path;
  await page.goto(`${base}${path}`);
  await waitReady(page);
  await screen.ready(page);
}
