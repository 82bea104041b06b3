import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { parseAnswer, postLargeBody, slowUpload } from '../../../test/support/slow-clients.ts';
import { type ControlServer, startControlServer } from '../control.ts';

/**
 * The local runtime's control endpoint: only its owner (the bearer token in the owner-only state file),
 * only under a loopback name (a page on a name rebound to 127.0.0.1 carries its own name in Host), and
 * within the shared server limits.
 */

let control: ControlServer;
const deployed: string[] = [];
const faultCalls: string[] = [];
before(async () => {
  control = await startControlServer({
    deploy: async (service) => {
      deployed.push(service);
      return { status: 'completed' } as never;
    },
    // The runtime's faults (runtime-faults.ts), recording what reached them.
    faults: {
      burst: (service, count) => {
        faultCalls.push(`burst ${service} ${count}`);
        return count;
      },
      set: (service, errorRate, durationSeconds) => {
        if (service !== 'orders') throw new Error(`no service '${service}' (services: orders)`);
        faultCalls.push(`set ${service} ${errorRate} ${durationSeconds}`);
        return { service, errorRate } as never;
      },
      state: (service) => {
        faultCalls.push(`state ${service}`);
        return { service, errorRate: 0 } as never;
      },
    },
  });
});
after(() => control.close());

/** A raw request, so the test chooses the Host header (fetch would not let it). */
function call(
  host: string,
  token: string | undefined,
  { method = 'POST', path = '/deployments', body = { service: 'backend', env: {} } as unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const { port } = new URL(control.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        headers: {
          host,
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : JSON.stringify(body));
  });
}

/** POSTs `body` to /deployments with the owner's token. */
async function post(body: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${control.url}/deployments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${control.token}` },
    body,
  });
  return { status: response.status, body: await response.json() };
}

describe('control endpoint', () => {
  it('refuses another Host even with the right token (DNS rebinding); nothing is deployed', async () => {
    const answer = await call('evil.example:40000', control.token);
    assert.deepEqual(answer, {
      status: 403,
      body: {
        error: {
          code: 'forbidden',
          message: 'the control endpoint answers only to localhost, 127.0.0.1 or [::1] (DNS rebinding)',
        },
      },
    });
    assert.deepEqual(deployed, []);
  });

  it('refuses a caller without the token', async () => {
    assert.equal((await call('127.0.0.1', undefined)).status, 401);
    assert.deepEqual(deployed, []);
  });

  it('takes its owner’s request under a loopback name', async () => {
    const { port } = new URL(control.url);
    const answer = await call(`127.0.0.1:${port}`, control.token);
    assert.equal(answer.status, 202);
    assert.deepEqual(deployed, ['backend']);
  });

  it('answers an oversized body 413 in the error shape, read no further than the limit; nothing is deployed', async () => {
    const body = JSON.stringify({ service: 'backend', env: { PAD: 'x'.repeat(4000) } }).repeat(40);
    const answer = await post(body);
    assert.deepEqual(answer, {
      status: 413,
      body: {
        error: { code: 'payload_too_large', message: `body is ${body.length} bytes; the limit is 65536` },
      },
    });
    // Sent without a length (chunked): refused while counting, never held past the limit.
    const chunked = await postLargeBody(`${control.url}/deployments`, 200_000, {
      chunked: true,
      headers: { authorization: `Bearer ${control.token}` },
    });
    assert.deepEqual(chunked, {
      status: 413,
      body: { error: { code: 'payload_too_large', message: 'body is larger than the limit of 65536 bytes' } },
    });
    assert.deepEqual(deployed, ['backend']);
  });

  it('answers a malformed body 400 invalid_json, as every server of the platform does', async () => {
    const answer = await post('{"service": "backend",');
    assert.equal(answer.status, 400);
    const error = (answer.body as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'invalid_json');
    assert.match(error.message, /^body is not valid JSON: /);
    assert.deepEqual(deployed, ['backend']);
  });

  it('closes a slow upload at its request deadline', { timeout: 60_000 }, async () => {
    const result = await slowUpload(control.url, {
      path: '/deployments',
      declaredBytes: 60_000,
      byteEveryMs: 500,
      giveUpMs: 45_000,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${control.token}` },
    });
    assert.ok(Number.isFinite(result.closedAfterMs), 'the control endpoint never closed the slow upload');
    assert.equal(parseAnswer(result.received)?.status, 408);
  });
});

describe('control endpoint: the runtime’s faults (fault SERVICE on|off|status|burst)', () => {
  const on = { path: '/faults', body: { service: 'orders', errorRate: 1 } };
  const port = () => new URL(control.url).port;

  it('refuses another Host or a caller without the token; no fault is touched', async () => {
    assert.equal((await call('evil.example:40000', control.token, on)).status, 403);
    assert.equal((await call(`127.0.0.1:${port()}`, undefined, on)).status, 401);
    assert.equal(
      (await call(`127.0.0.1:${port()}`, 'wrong', { method: 'GET', path: '/faults?service=orders' })).status,
      401,
    );
    assert.deepEqual(faultCalls, []);
  });

  it('sets a fault for 5 minutes unless told otherwise, answers its state, bursts', async () => {
    const host = `127.0.0.1:${port()}`;
    assert.deepEqual(await call(host, control.token, on), {
      status: 200,
      body: { service: 'orders', errorRate: 1 },
    });
    assert.equal(
      (
        await call(host, control.token, {
          path: '/faults',
          body: { service: 'orders', errorRate: 0, durationSeconds: 60 },
        })
      ).status,
      200,
    );
    assert.equal(
      (await call(host, control.token, { method: 'GET', path: '/faults?service=orders' })).status,
      200,
    );
    assert.deepEqual(
      await call(host, control.token, { path: '/faults/burst', body: { service: 'orders', count: 3 } }),
      { status: 200, body: { logged: 3 } },
    );
    assert.deepEqual(faultCalls.splice(0), [
      'set orders 1 300',
      'set orders 0 60',
      'state orders',
      'burst orders 3',
    ]);
  });

  it('answers a bad rate 400 and an unknown service 404, in the error shape', async () => {
    const host = `127.0.0.1:${port()}`;
    const bad = await call(host, control.token, {
      path: '/faults',
      body: { service: 'orders', errorRate: 2 },
    });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { error: { code: string } }).error.code, 'invalid_request');
    assert.deepEqual(
      await call(host, control.token, { path: '/faults', body: { service: 'nope', errorRate: 1 } }),
      {
        status: 404,
        body: { error: { code: 'not_found', message: "no service 'nope' (services: orders)" } },
      },
    );
    assert.equal((await call(host, control.token, { method: 'GET', path: '/faults' })).status, 400);
    assert.deepEqual(faultCalls, []);
  });
});
