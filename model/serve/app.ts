import { Hono } from 'hono';
import { ApiError } from '../../contracts/errors.ts';
import { PREDICTION_LIMITS } from '../../contracts/prediction.ts';
import { bodyLimit } from '../../runtime/body-limit.ts';
import { jsonErrorHandler, jsonNotFound } from '../../runtime/hono.ts';
import { assertJsonContentType } from '../../runtime/json-body.ts';
import { parsePredictionRequest } from '../../runtime/prediction-request.ts';
import type { AnomalyModel } from '../core/model.ts';

/** Options for {@link createInferenceApp}. */
export interface InferenceAppOptions {
  /** Where unexpected errors are reported. @default - one JSON line on stderr */
  readonly log?: (error: unknown) => void;
}

/**
 * The SageMaker inference container contract as a hono app: `GET /ping` (503 until the model is
 * loaded, then 200 with an empty body), `POST /invocations`, and `POST /endpoints/{name}/invocations`
 * so the real SageMaker runtime client can be pointed at it locally.
 *
 * @example
 * const app = createInferenceApp(loadModel(DEFAULT_MODEL_DIR)); // ping answers 503 until it resolves
 */
export function createInferenceApp(
  model: AnomalyModel | Promise<AnomalyModel>,
  options: InferenceAppOptions = {},
): Hono {
  let loaded: AnomalyModel | undefined;
  if (model instanceof Promise) {
    model.then(
      (m) => {
        loaded = m;
      },
      (error: unknown) => (options.log ?? logError)(error),
    );
  } else loaded = model;

  const app = new Hono();
  app.onError(jsonErrorHandler(options.log));
  app.notFound(jsonNotFound());

  app.get('/ping', (c) => (loaded ? c.body(null, 200) : c.body(null, 503)));

  const limit = bodyLimit({ maxBytes: PREDICTION_LIMITS.maxBodyBytes });
  const invoke = async (c: import('hono').Context) => {
    if (!loaded) throw new ApiError('unavailable', 'the model is still loading');
    // 415 before reading a body that will be rejected anyway.
    const contentType = c.req.header('content-type');
    assertJsonContentType(contentType);
    const request = parsePredictionRequest(await c.req.text(), contentType);
    return c.json(loaded.score(request));
  };
  app.post('/invocations', limit, invoke);
  app.post('/endpoints/:name/invocations', limit, invoke);
  return app;
}

function logError(error: unknown): void {
  console.error(JSON.stringify({ level: 'error', msg: 'model load failed', error: String(error) }));
}
