import type { Hono } from 'hono';
import { createSidecarApp } from './app.ts';
import type { Scorer } from './batch-scorer.ts';
import type { SidecarConfig } from './config.ts';
import { ScoringPipeline, type ScoringPipelineDeps } from './scoring-pipeline.ts';

/** One wired sidecar: the pipeline and the HTTP app in front of it. */
export interface Sidecar {
  readonly app: Hono;
  readonly pipeline: ScoringPipeline;
}

/**
 * Wires a sidecar from its configuration and a scorer (the shared ScoringClient in production, the same
 * client pointed at a local endpoint in tests). No process-level side effects: `main.ts` owns those.
 *
 * @example
 * const { app, pipeline } = createSidecar(loadConfig(process.env), { scorer: new ScoringClient({ endpointName, runtime }) });
 */
export function createSidecar(
  config: SidecarConfig,
  deps: ScoringPipelineDeps & { readonly scorer: Scorer },
): Sidecar {
  const pipeline = new ScoringPipeline(config, deps);
  const app = createSidecarApp({
    pipeline,
    serviceName: config.serviceName,
    intakeToken: config.intakeToken,
    ...(config.revision !== undefined ? { revision: config.revision } : {}),
    maxBodyBytes: config.maxBodyBytes,
    maxLineChars: config.maxLineChars,
    maxBufferedBytes: config.intakeMaxBufferedBytes,
    ...(deps.clock ? { clock: deps.clock } : {}),
    log: (error) => deps.log?.('error', 'unhandled error', { error: String(error) }),
  });
  return { app, pipeline };
}
