import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { SIDECAR_INTAKE_TOKEN_HEADER } from '../../../contracts/sidecar.ts';
import { createSageMakerRuntimeClient, ScoringClient } from '../../../model/client/scoring-client.ts';
import { type RunningInferenceServer, startInferenceServer } from '../../../model/serve/index.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { type SidecarConfig, SidecarConfigSchema } from '../src/config.ts';

/**
 * Test support: the real inference server (model/serve) behind a small real HTTP front whose mode a test
 * switches, so the sidecar's real ScoringClient sees an endpoint that goes down, rejects input or
 * recovers, over real HTTP. Everything binds 127.0.0.1 on port 0.
 */

/**
 * `down`: 503 from SageMaker; `model_error`: the model container fails (ModelError, original 500);
 * `missing`: no such endpoint (ValidationError); `throttled`: ThrottlingException; `slow`: answers after
 * `delayMs`.
 */
export type EndpointMode = 'up' | 'down' | 'model_error' | 'missing' | 'throttled' | 'slow';

export interface SwitchableEndpoint {
  readonly url: string;
  mode: EndpointMode;
  /** Invocations received, with the number of lines in each. */
  readonly calls: number[];
  /**
   * The invocations of one endpoint name only. A test that counts calls gives its pipeline a name of
   * its own ({@link scorerFor}), so a pipeline another test left retrying is never counted.
   */
  callsTo(endpointName: string): number[];
  /** Lines containing this marker make the container reject the call (ModelError, original 400). */
  poison: string | undefined;
  /** Delay of the `slow` mode. */
  delayMs: number;
  close(): Promise<void>;
}

export async function startSwitchableEndpoint(): Promise<SwitchableEndpoint> {
  const model: RunningInferenceServer = await startInferenceServer({ port: 0, log: () => {} });
  const byName = new Map<string, number[]>();
  const app = new Hono();
  const state: SwitchableEndpoint = {
    url: '',
    mode: 'up',
    calls: [],
    callsTo: (name) => byName.get(name) ?? [],
    poison: undefined,
    delayMs: 0,
    close: async () => {},
  };
  app.post('/endpoints/:name/invocations', async (c) => {
    const body = await c.req.text();
    const lines = (JSON.parse(body) as { logs?: unknown[] }).logs?.length ?? 0;
    state.calls.push(lines);
    const name = c.req.param('name');
    const calls = byName.get(name) ?? [];
    calls.push(lines);
    byName.set(name, calls);
    if (state.mode === 'down') return c.json({ error: { code: 'unavailable', message: 'down' } }, 503);
    if (state.mode === 'missing') {
      return c.json({ message: 'Endpoint log-anomaly of account 000000000000 not found.' }, 400, {
        'x-amzn-errortype': 'ValidationError',
      });
    }
    if (state.mode === 'throttled') {
      return c.json({ message: 'Rate exceeded' }, 400, { 'x-amzn-errortype': 'ThrottlingException' });
    }
    if (state.mode === 'model_error') {
      // What SageMaker answers when the container fails: a ModelError carrying the container's 5xx.
      return c.json({ Message: 'Received server error (500) from primary', OriginalStatusCode: 500 }, 424, {
        'x-amzn-errortype': 'ModelError',
      });
    }
    if (state.poison !== undefined && body.includes(state.poison)) {
      // The container refused the input (400): SageMaker wraps it in a ModelError too.
      return c.json({ Message: 'Received client error (400) from primary', OriginalStatusCode: 400 }, 424, {
        'x-amzn-errortype': 'ModelError',
      });
    }
    if (state.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, state.delayMs));
    const upstream = await fetch(`${model.url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await model.close();
    },
  });
  return state;
}

/** The shared ScoringClient over the real SDK client, pointed at `url` (and at `endpointName` there). */
export function scorerFor(url: string, timeoutMs = 2000, endpointName = 'log-anomaly'): ScoringClient {
  return new ScoringClient({
    endpointName,
    runtime: createSageMakerRuntimeClient({ endpointUrl: url, maxAttempts: 1 }),
    timeoutMs,
  });
}

/** A configuration with the defaults, overridden per test. */
/** The intake token of the tests' sidecars (a task's router sends its own). */
export const TEST_INTAKE_TOKEN = 'test-intake-token-0123456789abcdef0123456789';

/** What the task's log router sends with every intake body. */
export const ROUTER_HEADERS: Readonly<Record<string, string>> = {
  [SIDECAR_INTAKE_TOKEN_HEADER]: TEST_INTAKE_TOKEN,
};

export function testConfig(overrides: Partial<SidecarConfig> = {}): SidecarConfig {
  return {
    ...SidecarConfigSchema.parse({
      serviceName: 'backend',
      endpointName: 'log-anomaly',
      intakeToken: TEST_INTAKE_TOKEN,
    }),
    ...overrides,
  };
}

/** A FireLens-shaped record. */
export function firelensRecord(log: string, date = 1718000000.5): Record<string, unknown> {
  return {
    date,
    log,
    source: 'stdout',
    container_name: 'backend',
    ecs_cluster: 'acme-cluster',
    ecs_task_arn: 'arn:aws:ecs:eu-west-1:123456789012:task/acme-cluster/8f03e41243824aea923aca126495f665',
  };
}

/** The suite's one wait (test/support/wait-for.ts), in the argument order this folder's tests use. */
export async function eventually(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  await waitFor(what, timeoutMs, check, 10);
}
