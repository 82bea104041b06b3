import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The local Lambda host's own limits: Lambda's 6 MB invocation payload, and a clean SIGTERM. */

const HOST = fileURLToPath(new URL('../lambda-host.ts', import.meta.url));
const HANDLER = `${fileURLToPath(new URL('./fixtures/handler.ts', import.meta.url))}#handler`;
const INVOKE = '/2015-03-31/functions/function/invocations';
let child: ChildProcess;
let url: string;

before(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', HOST], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', LAMBDA_HANDLER: HANDLER },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  const deadline = Date.now() + 30_000;
  while (!/on 127\.0\.0\.1:(\d+)/.test(out) && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 50));
  }
  url = `http://127.0.0.1:${/on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]}`;
});
after(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

describe('lambda-host', () => {
  it('answers an event over 6 MB with 413 in the platform error shape', async () => {
    const res = await fetch(`${url}${INVOKE}`, {
      method: 'POST',
      body: JSON.stringify({ body: 'x'.repeat(6 * 1024 * 1024) }),
    });
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), {
      error: { code: 'payload_too_large', message: 'body is 6291467 bytes; the limit is 6291456' },
    });
  });

  it('still invokes the handler for an event within the limit', async () => {
    const res = await fetch(`${url}${INVOKE}`, {
      method: 'POST',
      body: JSON.stringify({ body: 'hi', path: '/p' }),
    });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(((await res.json()) as { body: string }).body).body, 'hi');
  });

  it('exits 0 on SIGTERM', async () => {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });
});
