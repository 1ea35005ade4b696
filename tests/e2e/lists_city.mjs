// The demo city with history, for the long lists' test and benchmark (issue 14): seeded through
// the real CLI (`tongxin demo-city --months N`), served by the real server; and what the lists
// must show, worked out here from the records the city manager may pull.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_PASSWORD, api, fieldValues, login, pullAll, startServer, tempDir } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const locales = ['zh-CN', 'en'].map((l) => JSON.parse(readFileSync(path.join(here, '../../app/locales', `${l}.json`), 'utf8')));

/** A demo city with `months` of history, served; the city manager's and admin's tokens. */
export async function historyCity(t, months) {
  const bin = process.env.TONGXIN_BIN;
  const dataDir = await tempDir(t, 'city');
  const started = Date.now();
  execFileSync(bin, ['demo-city', '--seed', '1', '--months', String(months), '--data-dir', dataDir], {
    // Its progress lines are many; only errors are kept.
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  const seededMs = Date.now() - started;
  const server = await startServer(t, { dataDir, log: 'warn' });
  const cityToken = await login(server.url, 'city', DEMO_PASSWORD);
  return { server, cityToken, seededMs };
}

/** The city manager's records by collection, as plain field values with their ids. */
export async function cityRecords(server, token) {
  const by = {};
  for (const r of await pullAll(server, token)) {
    const f = { id: r.id, ...fieldValues(r) };
    if (f.deleted) continue;
    (by[r.collection] ??= []).push(f);
  }
  return by;
}

/** The case list's default order: newest report first, then the larger id. */
export function newestFirst(a, b) {
  return (b.reported_at ?? 0) - (a.reported_at ?? 0) || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);
}

/** What the admin's user search looks in (as the server's, `server/src/store/user_list.rs`, matches). */
export function userHay(user, places) {
  const role = user.role;
  const parts = [user.username, user.display_name, role, ...locales.map((l) => l[`role.${role}`])];
  for (const id of [...(user.subdistricts ?? []), ...(user.communities ?? []), ...(user.grids ?? [])]) {
    const p = places.get(id);
    if (p) parts.push(p.name ?? '', p.code ?? '');
    parts.push(id);
  }
  return parts.join('\n').toLowerCase();
}

/** Gives one case a title nobody else has, as the city manager, through the sync API. */
export function retitle(server, token, caseId, title) {
  return setFields(server, token, 'cases', caseId, { title });
}

/** Sets fields of one record, as the user of `token`, through the sync API (from elsewhere). */
export async function setFields(server, token, collection, id, fields) {
  const now = Date.now();
  const actor = '00000000-0000-4000-a000-0000000011e5';
  const res = await api(server.url, token, 'POST', '/api/v1/sync/push', {
    protocol: 2,
    actor,
    ops: [{
      id: `00000000-0000-4000-9000-${String(now % 1e12).padStart(12, '0')}`,
      actor,
      hlc: `${String(now).padStart(15, '0')}-000000`,
      collection,
      record: id,
      body: { kind: 'set', fields },
      schema: 1,
    }],
  });
  const refused = res.results.filter((r) => r.rejected);
  if (refused.length) throw new Error(`set ${collection} ${id} refused: ${JSON.stringify(refused)}`);
}
