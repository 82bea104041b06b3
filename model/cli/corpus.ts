/**
 * Log lines this project itself writes (frontend, backend, anomaly sidecar, model server), generated
 * deterministically from a seed. They train the shipped default artifact (`npm run model:build-default`)
 * and, with injected faults, form the labelled fixture of the eval tests, so neither depends on the
 * research-only loghub data.
 */

/** mulberry32: a tiny seeded PRNG, so the corpus is identical on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const hex = (r: Rand, n: number) => Array.from({ length: n }, () => int(r, 0, 15).toString(16)).join('');
const uuid = (r: Rand) => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;
const ip = (r: Rand) => `10.0.${int(r, 0, 3)}.${int(r, 2, 254)}`;

const PATHS = [
  '/api/services',
  '/api/services/web',
  '/api/series',
  '/api/anomalies',
  '/api/predict',
  '/',
  '/assets/app.js',
];
const SERVICES = ['frontend', 'backend', 'worker'];

/** Normal lines, weighted by how often each kind occurs. */
const NORMAL: readonly (readonly [number, (r: Rand) => string])[] = [
  [
    30,
    (r) =>
      `INFO ${pick(r, ['GET', 'GET', 'POST'])} ${pick(r, PATHS)} 200 ${int(r, 1, 80)}ms request_id=${uuid(r)}`,
  ],
  [6, (r) => `INFO GET ${pick(r, PATHS)} 304 ${int(r, 1, 9)}ms request_id=${uuid(r)}`],
  [3, (r) => `WARN GET /api/services/${hex(r, 6)} 404 ${int(r, 1, 9)}ms request_id=${uuid(r)}`],
  [8, (r) => `DEBUG cache hit key=svc:${int(r, 1, 400)} ttl=${int(r, 1, 60)}s`],
  [4, (r) => `DEBUG cache miss key=svc:${int(r, 1, 400)}`],
  [
    10,
    (r) =>
      `INFO anomaly-sidecar scored ${int(r, 1, 500)} lines in ${int(r, 1, 40)}ms (${int(r, 0, 2)} anomalous)`,
  ],
  [5, (r) => `INFO health check ok service=${pick(r, SERVICES)} task=${hex(r, 32)}`],
  [
    3,
    (r) => `INFO proxy forwarded ${pick(r, PATHS)} to backend at http://${ip(r)}:8081 in ${int(r, 1, 50)}ms`,
  ],
  [2, (r) => `WARN slow request GET ${pick(r, PATHS)} took ${int(r, 1000, 3000)}ms`],
  [2, (r) => `INFO model server invocations batch=${int(r, 1, 100)} p99=${int(r, 1, 9)}ms`],
  [1, (r) => `INFO scaling service ${pick(r, SERVICES)} from ${int(r, 2, 3)} to ${int(r, 3, 6)} tasks`],
  [1, (r) => `WARN retrying model endpoint call attempt=${int(r, 1, 2)} after ${int(r, 50, 400)}ms`],
  [1, () => 'INFO configuration reloaded'],
  [1, (r) => `INFO deployment ${pick(r, SERVICES)}:${int(r, 10, 99)} reached steady state`],
];

/** Faults the eval fixture injects; their templates never occur in the normal corpus. */
const FAULTS: readonly ((r: Rand) => string)[] = [
  (r) => `FATAL out of memory: killed process ${int(r, 100, 9999)} (node) total-vm:${int(r, 1e5, 9e5)}kB`,
  (r) => `ERROR database connection refused: connect ECONNREFUSED ${ip(r)}:5432`,
  (r) =>
    `ERROR unhandled exception TypeError: Cannot read properties of undefined (reading '${pick(r, ['id', 'name', 'spec'])}')`,
  (r) => `CRITICAL disk /var/lib/data${int(r, 1, 3)} is full, writes failing`,
  (r) => `ERROR TLS handshake failed with ${ip(r)}:443: certificate has expired`,
];

const TOTAL_WEIGHT = NORMAL.reduce((a, [w]) => a + w, 0);

function normalLine(r: Rand): string {
  let x = r() * TOTAL_WEIGHT;
  for (const [w, make] of NORMAL) {
    x -= w;
    if (x < 0) return make(r);
  }
  return NORMAL[0]![1](r);
}

/** `count` normal lines with ISO timestamps one ~second apart, from `startMs`. */
export function normalCorpus(count: number, seed = 7, startMs = Date.UTC(2024, 4, 1)): string[] {
  const r = seededRandom(seed);
  let t = startMs;
  return Array.from({ length: count }, () => {
    t += int(r, 50, 2000);
    return `${new Date(t).toISOString()} ${normalLine(r)}`;
  });
}

/**
 * A labelled loghub-format file body (`-` normal, `FAULT` anomalous first column): normal traffic,
 * with faults injected only in the second half, in short bursts as real incidents come.
 */
export function labelledFixture(count: number, seed = 11): string {
  const r = seededRandom(seed);
  const lines = normalCorpus(count, seed + 1);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (i > count / 2 && r() < 0.02) {
      const stamp = line.slice(0, line.indexOf(' '));
      const fault = pick(r, FAULTS);
      const burst = int(r, 1, 3);
      for (let k = 0; k < burst; k++) out.push(`FAULT ${stamp} ${fault(r)}`);
    }
    out.push(`- ${line}`);
  }
  return `${out.join('\n')}\n`;
}
