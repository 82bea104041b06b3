import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { DEFAULT_MODEL_DIR, loadModel } from '../core/model.ts';
import { createInferenceApp } from './app.ts';

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
  const app = createInferenceApp(model, options.log ? { log: options.log } : {});
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: host }, () => resolve(s));
    s.once('error', reject);
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
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
