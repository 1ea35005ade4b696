// A fault-injecting HTTP proxy for the e2e suite (issue 15).
//
// It listens on a port-0 loopback listener in front of a real server (started by harness.mjs),
// and the browser talks to the proxy's URL instead of the server's. With a seeded PRNG it faults
// a configurable share of the exchanges it sees:
//
//   drop_before     the connection is destroyed before the request reaches the server
//   drop_after      the request is forwarded, the server answers (and has committed), then the
//                   connection is destroyed instead of answering: the client must retry an
//                   exchange the server already applied
//   delay           the request waits (delayMs) before it is forwarded
//   duplicate       the request is forwarded twice, one after the other; the client gets the
//                   second answer (an op or a photo the server already has)
//   reorder         the request is held until one that arrived after it has reached the server
//                   and been answered (or for delayMs if none comes): the server sees them in the
//                   opposite order (with the app's concurrent requests: photos, pulls, pushes)
//   status_502/503/504  an error status with a short text body, nothing forwarded
//   truncate        forwarded; the answer's headers announce the whole body but only part of it
//                   is sent before the connection is destroyed
//   cut_stream      (server-sent events only) the live stream is passed through and cut after a
//                   while (streamCutMs)
//
// `stats` counts every exchange, every fault per kind, and the faults per request path, so a
// test can assert that the faults really happened. Plain node, no dependency.

import http from 'node:http';

/** Every fault kind, with its default weight. */
export const FAULT_KINDS = {
  drop_before: 3,
  drop_after: 3,
  delay: 2,
  duplicate: 2,
  reorder: 2,
  status_502: 1,
  status_503: 1,
  status_504: 1,
  truncate: 2,
};

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Headers that describe one hop, never forwarded as they are. */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

function forwardable(headers) {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP.has(k.toLowerCase())));
}

/**
 * Starts a proxy in front of `upstream` (e.g. `http://127.0.0.1:4123`); stopped when the test
 * ends (`t.after`).
 *
 * Options:
 * - `seed` (1): the PRNG seed, so a failing run can be replayed;
 * - `rate` (0): the share of eligible exchanges that are faulted (change it later with
 *   `setRate`, e.g. clean while signing in, 30% once the device comes back online);
 * - `kinds`: weights per fault kind (default `FAULT_KINDS`; a kind with weight 0 never happens);
 * - `eligible(method, path)`: which exchanges may be faulted (default: the API, `/api/`);
 * - `delayMs` ([200, 1500]), `streamCutMs` ([1000, 4000]): ranges drawn from the PRNG;
 * - `port` (0): the port to listen on (a bench reopens a browser profile on the same origin);
 * - `first`: faults certain to happen, `{ 'POST /api/v1/sync/push': 'drop_after' }`: the first
 *   exchange on that path once the rate is above 0 gets that fault (on top of the random ones).
 */
export async function startFaultProxy(t, upstream, options = {}) {
  const {
    seed = 1,
    kinds = FAULT_KINDS,
    eligible = (_method, path) => path.startsWith('/api/'),
    delayMs = [200, 1500],
    streamCutMs = [1000, 4000],
    port = 0,
  } = options;
  let rate = options.rate ?? 0;
  const firsts = new Map(Object.entries(options.first ?? {}));
  const random = prng(seed);
  const target = new URL(upstream);
  const weighted = Object.entries(kinds).filter(([, w]) => w > 0);
  const totalWeight = weighted.reduce((s, [, w]) => s + w, 0);

  const stats = {
    exchanges: 0,
    /** Exchanges that could be faulted (`eligible`). */
    eligible: 0,
    faulted: 0,
    kinds: Object.fromEntries([...Object.keys(FAULT_KINDS), 'cut_stream'].map((k) => [k, 0])),
    /** `"PUT /api/v1/blobs" → { exchanges, faults }`, paths without their last segment's id. */
    paths: {},
  };
  const between = ([lo, hi]) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = () => {
    let x = random() * totalWeight;
    for (const [kind, w] of weighted) {
      x -= w;
      if (x < 0) return kind;
    }
    return weighted[weighted.length - 1][0];
  };
  const pathKey = (method, path) => {
    const clean = path.split('?')[0].replace(/\/[0-9a-f]{64}$/, '/{sha}');
    return `${method} ${clean}`;
  };
  const count = (key, kind) => {
    const p = (stats.paths[key] ??= { exchanges: 0, faults: {} });
    if (kind === undefined) {
      p.exchanges += 1;
      return;
    }
    stats.faulted += 1;
    stats.kinds[kind] += 1;
    p.faults[kind] = (p.faults[kind] ?? 0) + 1;
  };

  /** Sends the buffered request upstream; resolves with the status, headers and whole body (or the live response). */
  const forward = (req, body) =>
    new Promise((resolve, reject) => {
      const up = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...forwardable(req.headers), host: target.host, 'content-length': String(body.length) },
        },
        (res) => {
          if ((res.headers['content-type'] || '').startsWith('text/event-stream')) {
            resolve({ stream: res });
            return;
          }
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(body);
    });

  const send = (res, answer, bytes = answer.body.length) => {
    const headers = { ...forwardable(answer.headers), 'content-length': String(answer.body.length) };
    res.writeHead(answer.status, headers);
    if (bytes >= answer.body.length) {
      res.end(answer.body);
    } else {
      // The announced length is never reached: the client sees a broken answer.
      res.write(answer.body.subarray(0, bytes), () => res.destroy());
    }
  };

  // Requests held back by `reorder`, by their arrival number: each is let through once a request
  // that arrived after it has reached the server and been answered (or after its delay if none
  // comes), so the server sees the two in the opposite order.
  const held = new Map();
  let arrivals = 0;
  const releaseBefore = (arrival) => {
    for (const [release, at] of held) if (at < arrival) release();
  };

  const sockets = new Set();
  const streams = new Set();
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const key = pathKey(req.method, req.url);
    const mayFault = eligible(req.method, req.url);
    arrivals += 1;
    const arrival = arrivals;
    stats.exchanges += 1;
    if (mayFault) stats.eligible += 1;
    count(key);
    let kind = mayFault && random() < rate ? pick() : null;
    if (mayFault && rate > 0 && firsts.has(key)) {
      kind = firsts.get(key);
      firsts.delete(key);
    }
    try {
      switch (kind) {
        case 'drop_before':
          count(key, kind);
          req.socket.destroy();
          return;
        case 'status_502':
        case 'status_503':
        case 'status_504': {
          count(key, kind);
          const status = Number(kind.slice(-3));
          res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`fault proxy: ${status}`);
          return;
        }
        case 'delay':
          count(key, kind);
          await new Promise((resolve) => setTimeout(resolve, between(delayMs)));
          break;
        case 'reorder':
          count(key, kind);
          await new Promise((resolve) => {
            const release = () => {
              clearTimeout(timer);
              held.delete(release);
              resolve();
            };
            const timer = setTimeout(release, between(delayMs));
            held.set(release, arrival);
          });
          break;
        default:
          break;
      }
      if (kind === 'duplicate') {
        count(key, kind);
        const first = await forward(req, body);
        if (first.stream) first.stream.destroy();
      }
      const answer = await forward(req, body);
      releaseBefore(arrival);
      if (answer.stream) {
        // The live stream: passed through; cut after a while if this exchange is faulted (any
        // kind that makes sense for a stream becomes a cut).
        streams.add(answer.stream);
        res.writeHead(answer.stream.statusCode, forwardable(answer.stream.headers));
        answer.stream.pipe(res);
        const done = () => {
          streams.delete(answer.stream);
          answer.stream.destroy();
        };
        res.on('close', done);
        answer.stream.on('close', () => res.destroy());
        if (kind && kind !== 'delay' && kind !== 'duplicate' && kind !== 'reorder') {
          // The chosen kind is not counted for a stream: it is a cut.
          setTimeout(() => {
            count(key, 'cut_stream');
            res.destroy();
          }, between(streamCutMs));
        }
        return;
      }
      if (kind === 'drop_after') {
        // The server has answered, so it has committed; the client never hears of it.
        count(key, kind);
        req.socket.destroy();
        return;
      }
      if (kind === 'truncate' && answer.body.length > 0) {
        count(key, kind);
        send(res, answer, Math.floor(answer.body.length / 2));
        return;
      }
      send(res, answer);
    } catch (err) {
      // The server itself is unreachable or broke the exchange: that is the server's answer.
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`fault proxy: upstream failed: ${err.message}`);
      } else {
        res.destroy();
      }
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  const stop = async () => {
    for (const s of streams) s.destroy();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(() => resolve()));
  };
  t.after(stop);
  return {
    url,
    stats,
    /** The share of eligible exchanges faulted from now on (0 = a clean link). */
    setRate(r) {
      rate = r;
    },
    /** A one-line summary of what was done, for the test's output. */
    summary() {
      const kinds = Object.entries(stats.kinds)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      return `${stats.eligible} API exchanges (${stats.exchanges} in all), ${stats.faulted} faulted (${kinds || 'none'})`;
    },
    stop,
  };
}
