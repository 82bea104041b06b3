import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  SIDECAR_IMAGE_HEALTHCHECK,
  SIDECAR_NODE_FLAGS,
  SIDECAR_PORT,
  SIDECAR_PROCESS_ENV,
} from '../contract.ts';

/** Dockerfile.sidecar agrees with the contract the CDK renderer reads. */
const dockerfile = readFileSync(new URL('../../../Dockerfile.sidecar', import.meta.url), 'utf8');
const instructions = (name: string) =>
  dockerfile
    .replaceAll(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.startsWith(`${name} `));

describe('Dockerfile.sidecar', () => {
  it('runs the bundle as the non-root node user with the contract flags', () => {
    assert.deepEqual(instructions('USER'), ['USER node']);
    const cmd = JSON.parse(instructions('CMD').at(-1)!.slice(4)) as string[];
    assert.deepEqual(cmd, ['node', ...SIDECAR_NODE_FLAGS, '/app/sidecar.mjs']);
  });

  it('runs the bundle with the contract environment', () => {
    const env = new Map(
      instructions('ENV')
        .at(-1)!
        .slice(4)
        .split(/\s+/)
        .map((pair) => pair.split('=') as [string, string]),
    );
    for (const [name, value] of Object.entries(SIDECAR_PROCESS_ENV)) assert.equal(env.get(name), value, name);
  });

  it('is multi-stage on node:24-bookworm-slim and exposes the contract port', () => {
    assert.deepEqual(instructions('FROM'), [
      'FROM node:24-bookworm-slim AS build',
      'FROM node:24-bookworm-slim',
    ]);
    assert.deepEqual(instructions('EXPOSE'), [`EXPOSE ${SIDECAR_PORT}`]);
  });

  it("its HEALTHCHECK runs the contract's health-check command", () => {
    const [healthcheck] = instructions('HEALTHCHECK');
    const command = JSON.parse(healthcheck!.slice(healthcheck!.indexOf('CMD ') + 4)) as string[];
    assert.deepEqual(['CMD', ...command], SIDECAR_IMAGE_HEALTHCHECK);
  });
});
