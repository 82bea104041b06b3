import { seededRandom } from './corpus.ts';

/**
 * The platform's own runtime output in its real shapes, as `npm start` and the ECS tasks forward it
 * to the sidecars: request-log lines (runtime/request-log.ts) for health checks, successful requests
 * and client-caused errors, each service's `listening` line, and the Node.js runtime's start-up
 * warnings (the AWS SDK's Node version notice, one record per line as the log router cuts it).
 * Seeded, so the default artifact trained on it is byte-reproducible (`npm run model:build-default`).
 * Server errors (5xx) and the services' own error lines are left out on purpose: they are what a
 * fault looks like.
 */

type Rand = () => number;
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const hex = (r: Rand, n: number) => Array.from({ length: n }, () => int(r, 0, 15).toString(16)).join('');
const uuid = (r: Rand) => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;

/**
 * Lines between process starts, on average: every deployment, restart and scale-out starts processes,
 * and each start prints the runtime's warning, so it is routine, if rarer than a request.
 */
const START_EVERY = 150;

const SERVICES = ['backend', 'frontend'] as const;
/** Routes the console and the demo traffic use, by service. */
const ROUTES: Readonly<Record<(typeof SERVICES)[number], readonly (readonly [string, string])[]>> = {
  backend: [
    ['GET', '/healthz'],
    ['GET', '/healthz'],
    ['GET', '/api/services'],
    ['GET', '/api/services/backend/series'],
    ['GET', '/api/services/frontend/series'],
    ['GET', '/api/anomalies'],
    ['GET', '/api/faults'],
    ['POST', '/api/predict'],
  ],
  frontend: [
    ['GET', '/healthz'],
    ['GET', '/healthz'],
    ['GET', '/'],
    ['GET', '/assets/index-oxRqMS46.js'],
    ['GET', '/assets/index-Ck1ICDj1.css'],
    ['GET', '/api/services'],
    ['GET', '/api/services/backend/series'],
    ['GET', '/api/anomalies'],
    ['POST', '/api/predict'],
  ],
};
/** Answers a caller causes, with how often each comes relative to the others. */
const CLIENT_ERRORS: readonly (readonly [number, number])[] = [
  [404, 5],
  [400, 3],
  [401, 1],
  [403, 1],
  [405, 1],
  [413, 1],
  [415, 1],
  [429, 1],
];
const CLIENT_WEIGHT = CLIENT_ERRORS.reduce((a, [, w]) => a + w, 0);

function clientStatus(r: Rand): number {
  let x = r() * CLIENT_WEIGHT;
  for (const [status, w] of CLIENT_ERRORS) {
    x -= w;
    if (x < 0) return status;
  }
  return 404;
}

/** One request-log line, exactly as `requestLog` (runtime/request-log.ts) writes it. */
function accessLine(r: Rand, t: number): string {
  const service = pick(r, SERVICES);
  const [method, path] = pick(r, ROUTES[service]);
  const x = r();
  const status = x < 0.9 ? 200 : x < 0.95 ? 304 : clientStatus(r);
  return JSON.stringify({
    level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
    time: new Date(t).toISOString(),
    service,
    msg: 'request',
    method,
    path: status === 404 ? `${path}/${hex(r, 6)}` : path,
    status,
    durationMs: Math.round(r() * (path === '/healthz' ? 200 : 3000)) / 100,
    requestId: uuid(r),
  });
}

/** What a Node.js process of the platform prints as it starts: the runtime warning, then `listening`. */
function startUpLines(r: Rand, t: number): string[] {
  const pid = int(r, 1000, 99999);
  const service = pick(r, SERVICES);
  return [
    `(node:${pid}) Warning: NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)`,
    'versions published after the first week of January 2027',
    `will require node >=22. You are running node v20.${int(r, 11, 20)}.${int(r, 0, 9)}.`,
    '',
    'To continue receiving updates to AWS services, bug fixes,',
    'and security updates please upgrade to node >=22.',
    '',
    'More information can be found at: https://a.co/c895JFp',
    '(Use `node --trace-warnings ...` to show where the warning was created)',
    JSON.stringify({
      level: 'info',
      time: new Date(t).toISOString(),
      msg: 'listening',
      service,
      address: '127.0.0.1',
      port: int(r, 1024, 65535),
      ...(service === 'backend'
        ? {
            anomalySource: pick(r, ['local', 'cloudwatch']),
            services: ['backend', 'frontend'],
            modelEndpoint: 'log-anomaly',
            faultsEnabled: r() < 0.5,
          }
        : {}),
    }),
  ];
}

/**
 * `count` lines of the platform's runtime output from `startMs`, about one request every 0.5 s, with a
 * process start every ~400 lines (deployments, restarts, scale-outs). Each line is paired with its time
 * so it can be merged with another corpus in time order.
 */
export function platformCorpus(
  count: number,
  seed = 8,
  startMs = Date.UTC(2024, 4, 1),
): { t: number; line: string }[] {
  const r = seededRandom(seed);
  const out: { t: number; line: string }[] = [];
  let t = startMs;
  while (out.length < count) {
    t += int(r, 20, 1000);
    if (r() < 1 / START_EVERY) for (const line of startUpLines(r, t)) out.push({ t, line });
    else out.push({ t, line: accessLine(r, t) });
  }
  return out.slice(0, count);
}
