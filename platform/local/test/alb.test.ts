import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { declarePlatform } from '../../../config/declaration.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { wirePlatform } from '../../wiring/index.ts';
import {
  type AlbTarget,
  type LocalAlb,
  listenerRules,
  matchesPathPattern,
  routeFor,
  startLocalAlb,
} from '../alb.ts';
import { abortMidUpload } from '../replays.ts';

describe('matchesPathPattern (ALB semantics)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/*', '/', true],
    ['/*', '/anything/deep?', true],
    ['/api/*', '/api/anomalies', true],
    ['/api/*', '/api/', true],
    ['/api/*', '/api', false],
    ['/api/*', '/API/anomalies', false],
    ['/img/?.png', '/img/a.png', true],
    ['/img/?.png', '/img/ab.png', false],
    ['/a.b', '/aXb', false],
    ['/docs', '/docs', true],
    ['/docs', '/docs/', false],
  ];
  for (const [pattern, path, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${path}`, () => {
      assert.equal(matchesPathPattern(pattern, path), expected);
    });
  }
});

describe('listenerRules and routeFor', () => {
  it("renders this repository's declaration: the console takes the default action", () => {
    const rules = listenerRules(wirePlatform(declarePlatform().synth()));
    assert.deepEqual(rules, [{ service: 'frontend', paths: ['/*'], priority: 0, public: false }]);
    assert.equal(routeFor(rules, '/api/anomalies'), 'frontend');
  });

  it('evaluates explicit rules by priority before the default action', () => {
    const rules = [
      { service: 'console', paths: ['/*'], priority: 0 },
      { service: 'docs', paths: ['/docs/*'], priority: 20 },
      { service: 'api', paths: ['/docs/api/*', '/v1/*'], priority: 10 },
    ].sort((a, b) => (a.priority === 0 ? 1 : b.priority === 0 ? -1 : a.priority - b.priority));
    assert.equal(routeFor(rules, '/docs/api/x'), 'api');
    assert.equal(routeFor(rules, '/docs/guide'), 'docs');
    assert.equal(routeFor(rules, '/v1/x'), 'api');
    assert.equal(routeFor(rules, '/'), 'console');
    assert.equal(routeFor(rules.slice(0, 2), '/elsewhere'), undefined);
  });
});

describe('startLocalAlb', () => {
  const upstreams: Server[] = [];
  const targets = new Map<string, AlbTarget>();
  let alb: LocalAlb;

  async function upstream(name: string): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/hang') return; // never answers
        res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': name });
        res.end(
          JSON.stringify({
            name,
            method: req.method,
            url: req.url,
            headers: req.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      });
    });
    upstreams.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  before(async () => {
    targets.set('console', { port: await upstream('console'), healthy: true });
    targets.set('docs', { port: await upstream('docs'), healthy: true });
    alb = await startLocalAlb({
      rules: [
        { service: 'docs', paths: ['/docs/*'], priority: 10 },
        { service: 'console', paths: ['/*'], priority: 0 },
      ],
      targetOf: (s) => targets.get(s),
      port: 0,
      idleTimeoutMs: 300,
    });
  });
  after(async () => {
    await alb.close();
    for (const s of upstreams) s.close();
  });

  it('forwards by rule, keeping method, path, query, body and status, and adds X-Forwarded headers', async () => {
    const response = await fetch(`${alb.url}/docs/intro?x=1`, { method: 'POST', body: 'hello' });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-upstream'), 'docs');
    const seen = (await response.json()) as {
      method: string;
      url: string;
      body: string;
      headers: Record<string, string>;
    };
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/docs/intro?x=1');
    assert.equal(seen.body, 'hello');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-port'], String(alb.port));
    assert.match(seen.headers['x-amzn-trace-id']!, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);

    const other = await fetch(`${alb.url}/`);
    assert.equal(((await other.json()) as { name: string }).name, 'console');
  });

  it('answers 503 in the error shape while the target is unhealthy', async () => {
    targets.set('docs', { ...targets.get('docs')!, healthy: false });
    const response = await fetch(`${alb.url}/docs/x`);
    targets.set('docs', { ...targets.get('docs')!, healthy: true });
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), {
      error: { code: 'unavailable', message: "service 'docs' has no healthy target" },
    });
  });

  it('answers 502 when the target refuses the connection and 504 past the idle timeout', async () => {
    const saved = targets.get('docs')!;
    targets.set('docs', { port: 1, healthy: true });
    const refused = await fetch(`${alb.url}/docs/x`);
    targets.set('docs', saved);
    assert.equal(refused.status, 502);
    assert.deepEqual(await refused.json(), {
      error: { code: 'bad_gateway', message: "service 'docs' failed to answer" },
    });

    const slow = await fetch(`${alb.url}/hang`);
    assert.equal(slow.status, 504);
    assert.equal(((await slow.json()) as { error: { code: string } }).error.code, 'gateway_timeout');
  });

  it('counts a client that hangs up mid-upload as 460, as the ALB does, not as a 5xx of the target', async () => {
    const statuses: number[] = [];
    const saved = targets.get('docs')!;
    targets.set('docs', { ...saved, onResponse: (status) => statuses.push(status) });
    try {
      for (let i = 0; i < 3; i++) await abortMidUpload(`${alb.url}/docs/upload`);
      await waitFor('three counted answers', 10_000, () => statuses.length >= 3);
    } finally {
      targets.set('docs', saved);
    }
    assert.deepEqual(statuses, [460, 460, 460]);
  });
});
