import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { PREDICTION_LIMITS } from '../../contracts/prediction.ts';
import { createLimitedServer, httpServerLimits } from '../../runtime/http-server.ts';
import { type AnomalyModel, DEFAULT_MODEL_DIR, loadModel } from '../core/model.ts';
import { createInferenceApp } from './app.ts';
import { answerInvocation, isInvocation } from './invocations-listener.ts';

/**
 * The model server's limits: its largest body is a prediction request (SageMaker's own invocation limit
 * is 6 MB); its callers are the sidecars, the predict function and the backend, through SageMaker on
 * AWS and on loopback locally.
 */
export const MODEL_SERVER_LIMITS = httpServerLimits({ maxBodyBytes: PREDICTION_LIMITS.maxBodyBytes });

/** Options for {@link startInferenceServer}. */
export interface InferenceServerOptions {
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Interface to bind. @default '127.0.0.1' */
  readonly host?: string;
  /** Artifact directory. @default DEFAULT_MODEL_DIR (the shipped default artifact) */
  readonly modelDir?: string;
  /** Where unexpected errors are reported. @default - one JSON line on stderr */
  readonly log?: (error: unknown) => void;
}

/** A running inference server. */
export interface RunningInferenceServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  /** Stops accepting connections and resolves once the server is closed. */
  close(): Promise<void>;
}

/**
 * Starts the inference server; it listens at once and answers `/ping` with 503 until the model is
 * loaded. Rejects when the artifact cannot be loaded, so a runtime that embeds it fails loudly.
 *
 * @example
 * const server = await startInferenceServer({ port: 8082 });
 * console.log(server.url); // http://127.0.0.1:8082
 */
export async function startInferenceServer(options: InferenceServerOptions): Promise<RunningInferenceServer> {
  const host = options.host ?? '127.0.0.1';
  const model = loadModel(options.modelDir ?? DEFAULT_MODEL_DIR);
  const log = options.log ?? logError;
  const app = createInferenceApp(model, options.log ? { log: options.log } : {});
  let loaded: AnomalyModel | undefined;
  model.then(
    (m) => {
      loaded = m;
    },
    () => {},
  );
  // Invocations take the plain node:http path (invocations-listener.ts); the rest is the hono app.
  const other = getRequestListener(app.fetch, { autoCleanupIncoming: false });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = createLimitedServer(MODEL_SERVER_LIMITS, (req, res) => {
      if (isInvocation(req)) answerInvocation(req, res, () => loaded, log);
      else void other(req, res);
    });
    s.once('error', reject);
    s.listen(options.port, host, () => resolve(s));
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  try {
    await model;
  } catch (error) {
    await close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, close };
}

function logError(error: unknown): void {
  console.error(JSON.stringify({ level: 'error', msg: 'unexpected error', error: String(error) }));
}
