import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { envInt, parseEnv, presentValues } from '../process.ts';

const Schema = z.object({
  PORT: envInt(0, 65535).default(8080),
  NAME: z.string().min(1),
});

describe('parseEnv', () => {
  it('treats empty and blank values as unset, so the default applies', () => {
    assert.deepEqual(parseEnv(Schema, { PORT: '', NAME: 'backend', OTHER: ' ' }), {
      ok: true,
      env: { PORT: 8080, NAME: 'backend' },
    });
    assert.deepEqual(presentValues({ A: '', B: '  ', C: 'x', D: undefined }), { C: 'x' });
  });

  it('names each variable at fault; a missing one "is required"', () => {
    assert.deepEqual(parseEnv(Schema, { PORT: '70000', NAME: '' }), {
      ok: false,
      issues: [
        { variable: 'PORT', message: 'Too big: expected number to be <=65535' },
        { variable: 'NAME', message: 'is required' },
      ],
    });
  });
});

describe('envInt', () => {
  it('takes decimal digits only', () => {
    const int = envInt(0, 100_000);
    assert.equal(int.parse('42'), 42);
    assert.equal(int.parse(' 7 '), 7);
    for (const text of ['0x10', '1e3', '-1', '1.5', 'abc']) {
      assert.equal(int.safeParse(text).success, false, text);
    }
  });
});

describe('stopOnSignal', () => {
  const script = (stopBody: string) => `
    import { stopOnSignal } from ${JSON.stringify(fileURLToPath(new URL('../process.ts', import.meta.url)))};
    stopOnSignal({ name: 'probe', graceMs: 300, stop: () => ${stopBody} });
    setInterval(() => {}, 1000);
    console.log('ready');
  `;

  async function stopWithSigterm(
    stopBody: string,
  ): Promise<{ code: number | null; ms: number; out: string }> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script(stopBody)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    while (!out.includes('ready') && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, ms: Date.now() - started, out };
  }

  it('exits 0 once stop resolves', async () => {
    const { code, ms, out } = await stopWithSigterm('Promise.resolve()');
    assert.equal(code, 0);
    assert.ok(ms < 300, `took ${ms} ms`);
    assert.match(out, /"msg":"stopping","signal":"SIGTERM"/);
  });

  it('exits 0 when stop outlives the grace period, saying so', async () => {
    const { code, ms, out } = await stopWithSigterm('new Promise(() => {})');
    assert.equal(code, 0);
    assert.ok(ms >= 300, `took ${ms} ms`);
    assert.match(out, /grace period elapsed/);
  });
});
