// The fault proxy itself (issue 15): each fault kind does what it says to a small upstream that
// counts what reached it, the share of faulted exchanges follows `rate`, and a seed replays the
// same faults. The lossy-link test (lossy.test.mjs) relies on all of this.

import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startFaultProxy } from './faultproxy.mjs';

/** An upstream that counts requests per path, answers JSON, and streams events on /api/live. */
async function upstream(t) {
  const seen = {};
  const order = [];
  const server = http.createServer((req, res) => {
    seen[req.url] = (seen[req.url] ?? 0) + 1;
    order.push(req.url);
    if (req.url === '/api/live') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write('event: poke\ndata: {}\n\n'), 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, pad: 'x'.repeat(2000) }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${server.address().port}`, seen, order };
}

/** The outcome of one exchange: `{ status, text }` (the whole body read) or `{ error }`. */
async function exchange(url, init) {
  try {
    const res = await fetch(url, { ...init, headers: { connection: 'close' } });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    return { error: err.message };
  }
}

test('each fault kind does what it says', async (t) => {
  const up = await upstream(t);
  const only = async (kind, path) => {
    const proxy = await startFaultProxy(t, up.url, { rate: 1, kinds: { [kind]: 1 }, delayMs: [300, 300] });
    const started = Date.now();
    const out = await exchange(`${proxy.url}${path}`, { method: 'POST', body: '{"op":1}' });
    return { out, elapsed: Date.now() - started, proxy, reached: up.seen[path] ?? 0 };
  };

  let r = await only('drop_before', '/api/a');
  assert.ok(r.out.error, 'the client sees a broken connection');
  assert.equal(r.reached, 0, 'nothing reached the server');
  assert.equal(r.proxy.stats.kinds.drop_before, 1);

  r = await only('drop_after', '/api/b');
  assert.ok(r.out.error, 'the client sees a broken connection');
  assert.equal(r.reached, 1, 'the server had the request');
  assert.equal(r.proxy.stats.kinds.drop_after, 1);

  r = await only('duplicate', '/api/c');
  assert.equal(r.out.status, 200);
  assert.equal(r.reached, 2, 'the server had it twice');
  assert.equal(JSON.parse(r.out.text).ok, true, 'the client got a whole answer');

  r = await only('status_503', '/api/d');
  assert.equal(r.out.status, 503);
  assert.equal(r.reached, 0);

  r = await only('truncate', '/api/e');
  assert.ok(r.out.error, `a truncated answer is an error, got ${JSON.stringify(r.out)}`);
  assert.equal(r.reached, 1);

  r = await only('delay', '/api/f');
  assert.equal(r.out.status, 200);
  assert.ok(r.elapsed >= 290, `delayed ${r.elapsed} ms`);

  // reorder: the first request is held until a later one has reached the server and been
  // answered, well before its 5 s delay runs out; the server sees them in the opposite order.
  const proxy = await startFaultProxy(t, up.url, { rate: 1e-9, first: { 'POST /api/g': 'reorder' }, delayMs: [5000, 5000] });
  const started = Date.now();
  const first = exchange(`${proxy.url}/api/g`, { method: 'POST', body: '{"op":1}' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const second = await exchange(`${proxy.url}/api/h`, { method: 'POST', body: '{"op":2}' });
  const held = await first;
  assert.equal(second.status, 200);
  assert.equal(held.status, 200, 'the held request is answered too');
  assert.ok(Date.now() - started < 4000, 'released by the later request, not by its delay');
  const seenOrder = up.order.filter((u) => u === '/api/g' || u === '/api/h');
  assert.deepEqual(seenOrder, ['/api/h', '/api/g'], 'the server saw the later request first');
  assert.equal(proxy.stats.kinds.reorder, 1);

  // Outside `eligible` nothing is faulted.
  r = await only('drop_before', '/static.js');
  assert.equal(r.out.status, 200);
  assert.equal(r.proxy.stats.faulted, 0);
});

test('a faulted live stream is cut after a while; a clean one keeps flowing', async (t) => {
  const up = await upstream(t);
  const read = async (proxy, ms) => {
    const res = await fetch(`${proxy.url}/api/live`);
    const reader = res.body.getReader();
    let events = 0;
    const deadline = Date.now() + ms;
    try {
      while (Date.now() < deadline) {
        const next = await Promise.race([reader.read(), new Promise((r) => setTimeout(() => r({ timeout: true }), 200))]);
        if (next.done) return { events, ended: true };
        if (next.value) events += new TextDecoder().decode(next.value).split('event: poke').length - 1;
      }
    } catch (_) {
      return { events, ended: true };
    }
    await reader.cancel();
    return { events, ended: false };
  };
  const cut = await startFaultProxy(t, up.url, { rate: 1, kinds: { truncate: 1 }, streamCutMs: [400, 400] });
  const a = await read(cut, 3000);
  assert.ok(a.ended && a.events > 0, `cut after some events: ${JSON.stringify(a)}`);
  assert.equal(cut.stats.kinds.cut_stream, 1);
  const clean = await startFaultProxy(t, up.url, { rate: 0 });
  const b = await read(clean, 1000);
  assert.ok(!b.ended && b.events > 5, `a clean stream flows: ${JSON.stringify(b)}`);
});

test('the faulted share follows the rate, and a seed replays the same faults', async (t) => {
  const up = await upstream(t);
  const run = async (seed) => {
    const proxy = await startFaultProxy(t, up.url, {
      seed,
      rate: 0.3,
      kinds: { status_502: 1, status_503: 1, status_504: 1 },
    });
    const statuses = [];
    for (let i = 0; i < 400; i++) statuses.push((await exchange(`${proxy.url}/api/x`, {})).status);
    return { statuses, proxy };
  };
  const a = await run(7);
  const b = await run(7);
  const c = await run(8);
  const share = a.statuses.filter((s) => s !== 200).length / a.statuses.length;
  assert.ok(share > 0.24 && share < 0.36, `faulted share ${share}`);
  assert.equal(a.proxy.stats.faulted, a.statuses.filter((s) => s !== 200).length, 'every fault is counted');
  assert.deepEqual(a.statuses, b.statuses, 'the same seed, the same faults');
  assert.notDeepEqual(a.statuses, c.statuses, 'another seed, other faults');
});
