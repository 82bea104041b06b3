import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MAX_REQUEST_CLASSES,
  NOT_FOUND_CLASS,
  OTHER_LINES_CLASS,
  OVERFLOW_CLASS,
} from '../../../contracts/revision-counts.ts';
import { parseRequestLine, RequestClassCounter, routeTemplate } from '../src/request-classes.ts';

/**
 * Request classes (issue 24): the deployment gate compares revisions per route, so a flood of one
 * healthy route cannot dilute a failing one. The sidecar reads the route and status from the service's
 * own request lines, in the shapes services commonly write.
 */

describe('parseRequestLine', () => {
  const cases: [string, string, ReturnType<typeof parseRequestLine>][] = [
    [
      "this platform's request log (runtime/request-log.ts)",
      '{"level":"info","time":"2026-12-07T00:16:58.222Z","service":"backend","msg":"request","method":"GET","path":"/api/services","status":200,"durationMs":3.2}',
      { method: 'GET', path: '/api/services', status: 200 },
    ],
    [
      'pino-http',
      '{"level":30,"req":{"id":1,"method":"POST","url":"/orders/42?x=1"},"res":{"statusCode":503},"responseTime":4}',
      { method: 'POST', path: '/orders/42?x=1', status: 503 },
    ],
    [
      'url and statusCode at the top',
      '{"method":"DELETE","url":"/carts/9","statusCode":204}',
      { method: 'DELETE', path: '/carts/9', status: 204 },
    ],
    [
      'Common/Combined Log Format (nginx, Apache, Python, Go)',
      '10.0.1.7 - - [07/Dec/2026:00:16:58 +0000] "GET /static/app.js HTTP/1.1" 304 0 "-" "Mozilla/5.0"',
      { method: 'GET', path: '/static/app.js', status: 304 },
    ],
    ['a plain line', 'INFO request 12 served in 3 ms', undefined],
    ['a stack trace line', '    at OrderTotals.compute (/app/orders.js:42:13)', undefined],
    [
      'JSON without a status',
      '{"level":"error","msg":"unhandled error","method":"GET","path":"/x"}',
      undefined,
    ],
    ['a status outside HTTP', '{"method":"GET","path":"/x","status":1200}', undefined],
    ['a path that is not one', '{"method":"GET","path":"x","status":200}', undefined],
    ['not JSON after all', '{"method":"GET", oops', undefined],
  ];
  for (const [name, line, expected] of cases) {
    it(name, () => assert.deepEqual(parseRequestLine(line), expected));
  }

  it('property: any line is parsed without throwing', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (line) => parseRequestLine(line) !== null));
    fc.assert(
      fc.property(fc.json(), (json) => {
        parseRequestLine(json);
        return true;
      }),
    );
  });
});

describe('routeTemplate', () => {
  const cases: [string, string][] = [
    ['/api/services', '/api/services'],
    ['/orders/42?x=1', '/orders/{n}'],
    ['/users/3f2b8c1e-9a4d-4e21-b0c7-1d2e3f4a5b6c/cart', '/users/{id}/cart'],
    ['/blobs/a94a8fe5ccb19ba61c4c0873d391e987982fbbd3', '/blobs/{id}'],
    ['/sessions/eyJhbGciOiJIUzI1NiJ9xyz123abc', '/sessions/{id}'],
    ['/', '/'],
    ['/a/b/c/d/e/f/g/h/i/j', '/a/b/c/d/e/f/g/h/…'],
  ];
  for (const [path, template] of cases) {
    it(`${path} → ${template}`, () => assert.equal(routeTemplate(path), template));
  }
});

describe('RequestClassCounter', () => {
  const line = (method: string, path: string, status: number) =>
    JSON.stringify({ level: 'info', msg: 'request', method, path, status });

  it('counts received lines, requests and 5xx per class, then scored and anomalous lines per class', () => {
    const counter = new RequestClassCounter();
    const classes = [
      counter.received(line('GET', '/api/services', 200)),
      counter.received(line('GET', '/api/services', 500)),
      counter.received(line('GET', '/orders/7', 200)),
      counter.received(line('GET', '/nope', 404)),
      counter.received('Error: read ECONNRESET'),
      counter.received(line('POST', '/api/predict', 499)),
    ];
    assert.deepEqual(classes, [
      'GET /api/services',
      'GET /api/services',
      'GET /orders/{n}',
      NOT_FOUND_CLASS,
      OTHER_LINES_CLASS,
      'POST /api/predict',
    ]);
    counter.scored('GET /api/services', false);
    counter.scored('GET /api/services', true);
    counter.scored(OTHER_LINES_CLASS, true);
    counter.scorerFailed();

    const expected = {
      received: 6,
      scored: 3,
      anomalous: 2,
      scorerFailures: 1,
      classes: {
        'GET /api/services': [2, 1, 2, 1],
        'GET /orders/{n}': [0, 0, 1, 0],
        [NOT_FOUND_CLASS]: [0, 0, 1, 0],
        [OTHER_LINES_CLASS]: [1, 1, 0, 0],
        // A client that hung up (499) is a request, never a 5xx.
        'POST /api/predict': [0, 0, 1, 0],
      },
    };
    assert.deepEqual(counter.snapshot(), expected);
    assert.deepEqual(counter.drainInterval(), expected);
    // The interval starts over; the cumulative counts do not.
    assert.deepEqual(counter.drainInterval(), {
      received: 0,
      scored: 0,
      anomalous: 0,
      scorerFailures: 0,
      classes: {},
    });
    assert.equal(counter.snapshot().received, 6);
  });

  it(`keeps at most ${MAX_REQUEST_CLASSES} routes, whatever clients send; the rest count together`, () => {
    const counter = new RequestClassCounter();
    for (let i = 0; i < 500; i++) counter.received(line('GET', `/route-${i}/x`, 200));
    const names = Object.keys(counter.snapshot().classes);
    assert.equal(names.length, MAX_REQUEST_CLASSES + 1);
    assert.equal(counter.snapshot().classes[OVERFLOW_CLASS]?.[2], 500 - MAX_REQUEST_CLASSES);
    // Paths nobody serves make no class at all: they are 404s.
    for (let i = 0; i < 100; i++) counter.received(line('GET', `/made-up-${i}`, 404));
    assert.equal(counter.snapshot().classes[NOT_FOUND_CLASS]?.[2], 100);
  });
});
