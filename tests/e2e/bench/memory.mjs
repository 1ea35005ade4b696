// Benchmark (issue 16, "server memory"): the release server's resident memory (VmRSS, and its
// high-water mark VmHWM, from /proc) while the demo city is seeded and while the city manager
// pulls the whole city. Run: `cargo xtask bench memory` (TONGXIN_BENCH_MONTHS, default 12, for
// the second part). Reports figures; asserts nothing about them.
//
// 1. `tongxin --demo-city` on an empty data directory (3 months of history, as `cargo xtask
//    run` starts it): memory once it listens, then after the city manager's full pull.
// 2. `tongxin demo-city --months N` (its peak while seeding), then the server started on that
//    database: memory once it listens, and after the city manager's full pull.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_PASSWORD, login } from '../harness.mjs';

const BIN = process.env.TONGXIN_BIN;
const DIST = process.env.TONGXIN_DIST;
const MONTHS = Number(process.env.TONGXIN_BENCH_MONTHS || 12);
const dirs = [];

/** VmRSS and VmHWM of `pid` in MB, or null once it has exited. */
function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(status.match(new RegExp(`${key}:\\s+(\\d+) kB`))[1]);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

const mb = (m) => `RSS ${m.rss.toFixed(0)} MB, peak ${m.hwm.toFixed(0)} MB`;

function dataDir() {
  const d = mkdtempSync(join(tmpdir(), 'tongxin-mem-'));
  dirs.push(d);
  return d;
}

/** Runs `tongxin demo-city`, polling its memory; resolves with the highest peak seen. */
async function seed(dir, months) {
  const child = spawn(BIN, ['demo-city', '--seed', '1', '--months', String(months), '--data-dir', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let peak = 0;
  let done = false;
  exited.then(() => (done = true));
  while (!done) {
    const m = memory(child.pid);
    if (m) peak = Math.max(peak, m.hwm);
    await sleep(50);
  }
  const code = await exited;
  if (code !== 0) throw new Error(`demo-city exited with ${code}`);
  return { peak, summary: out.trim().split('\n')[0] };
}

/** Starts the server; resolves once it listens, with its url, pid and a stop function. */
async function serve(dir, extra = []) {
  const child = spawn(BIN, ['--addr', '127.0.0.1:0', '--data-dir', dir, '--dist-dir', DIST, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  child.stderr.resume();
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = out.match(/tongxin listening on (http:\/\/\S+)/);
      if (m) resolve(m[1].replace(/\/$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening`)));
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  return { url, pid: child.pid, stop };
}

/** The city manager's full pull, page by page as the app pulls; the number of records. */
async function cityPull(url) {
  const token = await login(url, 'city', DEMO_PASSWORD);
  let cursor = 0;
  let records = 0;
  for (;;) {
    const res = await fetch(`${url}/api/v1/sync/pull?cursor=${cursor}&limit=1000`, {
      headers: { 'x-tongxin-protocol': '2', authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`pull failed: ${res.status} ${await res.text()}`);
    const page = await res.json();
    records += page.records.length;
    cursor = page.cursor;
    if (!page.more) return records;
  }
}

async function measure(label, dir, extra) {
  const started = Date.now();
  const server = await serve(dir, extra);
  const listening = Date.now() - started;
  // The sweeps that run at start (escalation, blob references) settle first.
  await sleep(3000);
  console.log(`memory: ${label}: listening after ${listening} ms; then ${mb(memory(server.pid))}`);
  const t0 = Date.now();
  const n = await cityPull(server.url);
  await sleep(2000);
  console.log(`memory: ${label}: after the city manager's pull (${n} records, ${Date.now() - t0 - 2000} ms): ${mb(memory(server.pid))}`);
  await server.stop();
}

try {
  await measure('--demo-city start (3 months, seeded at start)', dataDir(), ['--demo-city']);
  const dir = dataDir();
  const seeded = await seed(dir, MONTHS);
  console.log(`memory: demo-city --months ${MONTHS}: peak ${seeded.peak.toFixed(0)} MB (${seeded.summary})`);
  await measure(`a server on the ${MONTHS}-month city`, dir, []);
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
