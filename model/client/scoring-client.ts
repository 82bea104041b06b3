import {
  InvokeEndpointCommand,
  type InvokeEndpointCommandOutput,
  SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import { ApiError } from '../../contracts/errors.ts';
import {
  isPredictionResponse,
  type PredictionRequest,
  type PredictionResponse,
  PredictionResponseSchema,
  vectorsOf,
} from '../../contracts/prediction.ts';

/**
 * The scoring client: the one way the sidecar, the Lambdas and the backend call the model endpoint.
 * It wraps the real `@aws-sdk/client-sagemaker-runtime` client; locally that client is pointed at the
 * SageMaker-compatible endpoint of the local runtime (`endpointUrl`) with static credentials.
 */

/**
 * Why a scoring call failed; callers map it to a status (502 or 504) or a retry decision. Only
 * `rejected_input` is about the request itself; every other kind is the endpoint failing.
 */
export type EndpointFailure =
  /** No answer before the deadline. */
  | 'timeout'
  /** Network error, a 5xx from SageMaker, or a 5xx from a model server answering directly. */
  | 'unavailable'
  /** SageMaker throttled the call. */
  | 'throttled'
  /** The model container failed (`ModelError` with a 5xx, another non-input 4xx, or no original status). */
  | 'model_error'
  /** The endpoint does not exist (`ValidationError`: a deployment or configuration problem, not the input). */
  | 'missing_endpoint'
  /** The model container refused this input (400, 413 or 422 from the container). */
  | 'rejected_input'
  /** An answer that is not a prediction per line. */
  | 'bad_response';

/** Container statuses that mean "this input", so splitting or skipping it can help. */
const INPUT_REJECTION_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);

export class EndpointError extends Error {
  constructor(
    readonly failure: EndpointFailure,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'EndpointError';
  }

  /** Whether the same call can succeed later: not for a rejected input, nonsense or a missing endpoint. */
  get retryable(): boolean {
    return (
      this.failure === 'timeout' ||
      this.failure === 'unavailable' ||
      this.failure === 'throttled' ||
      this.failure === 'model_error'
    );
  }

  /** Whether the input itself was refused (the only case where splitting a batch can help). */
  get rejectedInput(): boolean {
    return this.failure === 'rejected_input';
  }

  /** The error a caller-facing API answers with: 504 on timeout, 502 otherwise. */
  toApiError(): ApiError {
    return this.failure === 'timeout'
      ? new ApiError('gateway_timeout', 'the model endpoint did not answer in time')
      : new ApiError('bad_gateway', `the model endpoint failed (${this.failure})`);
  }
}

/** Settings for {@link createSageMakerRuntimeClient}. */
export interface RuntimeClientSettings {
  /** AWS region. @default the SDK's own resolution (AWS_REGION) */
  readonly region?: string;
  /**
   * A SageMaker-runtime-compatible endpoint, e.g. the local runtime's `http://127.0.0.1:8082`. When set,
   * static local credentials are used so no AWS credential lookup happens.
   * @default - the regional AWS endpoint
   */
  readonly endpointUrl?: string;
  /** Attempts the SDK makes per call, including the first. @default 2 */
  readonly maxAttempts?: number;
}

/**
 * Builds the SDK client once, at module scope of a handler or at process start of a service.
 *
 * @example
 * const runtime = createSageMakerRuntimeClient({ endpointUrl: process.env.MODEL_ENDPOINT_URL });
 */
export function createSageMakerRuntimeClient(settings: RuntimeClientSettings = {}): SageMakerRuntimeClient {
  const local = settings.endpointUrl !== undefined && settings.endpointUrl !== '';
  const client = new SageMakerRuntimeClient({
    region: settings.region ?? (local ? 'local' : undefined),
    maxAttempts: settings.maxAttempts ?? 2,
    // Resolve the middleware stack once, not per call (see carryCallSignals).
    cacheMiddleware: true,
    ...(local
      ? {
          endpoint: settings.endpointUrl,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  });
  carryCallSignals(client);
  return client;
}

/**
 * Each call's abort signal (deadline, caller's shutdown), by the command input it was sent with.
 *
 * The SDK reuses a client's resolved middleware stack only for `send(command)` without options
 * (`cacheMiddleware`); an `abortSignal` option made it build the stack again for every call, a tenth of
 * the sidecar's SDK time. So a client made by {@link createSageMakerRuntimeClient} takes the signal
 * another way: a middleware added once, the innermost, finds it by the command's input and ties it to
 * that attempt's signed HTTP request, and the client's own HTTP handler aborts that request with it.
 */
const inputSignals = new WeakMap<object, AbortSignal>();
const requestSignals = new WeakMap<object, AbortSignal>();
/** Clients that carry {@link inputSignals}; any other client gets the signal as the SDK's call option. */
const signalCarriers = new WeakSet<object>();

function carryCallSignals(client: SageMakerRuntimeClient): void {
  client.middlewareStack.add(
    (next) => (args) => {
      const signal = inputSignals.get(args.input as object);
      if (signal !== undefined) requestSignals.set(args.request as object, signal);
      return next(args);
    },
    { step: 'deserialize', priority: 'low', name: 'scoringCallSignal' },
  );
  const http = client.config.requestHandler;
  const handle = http.handle.bind(http);
  http.handle = (request, options) => {
    const signal = requestSignals.get(request);
    return handle(request, signal === undefined ? options : { ...options, abortSignal: signal });
  };
  signalCarriers.add(client);
}

/**
 * `call`, or the abort's reason as soon as `signal` aborts. The HTTP request itself is aborted by the
 * handler; this also ends a call that is waiting between the SDK's own attempts (`maxAttempts` > 1).
 */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Options for {@link ScoringClient}. */
export interface ScoringClientOptions {
  /** The SageMaker endpoint name. */
  readonly endpointName: string;
  /** The SDK client, created once by the caller. */
  readonly runtime: Pick<SageMakerRuntimeClient, 'send'>;
  /** Per-call deadline in milliseconds. @default 2000 */
  readonly timeoutMs?: number;
}

/**
 * Scores a prediction request on the endpoint and validates the answer.
 *
 * @example
 * const scoring = new ScoringClient({ endpointName: 'log-anomaly', runtime });
 * const { predictions } = await scoring.score({ logs: [{ timestamp: Date.now(), message: 'disk failure' }] });
 */
export class ScoringClient {
  readonly endpointName: string;
  readonly timeoutMs: number;
  private readonly runtime: Pick<SageMakerRuntimeClient, 'send'>;

  constructor(options: ScoringClientOptions) {
    this.endpointName = options.endpointName;
    this.runtime = options.runtime;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  async score(request: PredictionRequest, signal?: AbortSignal): Promise<PredictionResponse> {
    // One controller per call, ended by the deadline or the caller's signal and let go when the call
    // ends: AbortSignal.timeout and AbortSignal.any leave weak references and finalizers behind per call.
    const call = new AbortController();
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      call.abort(new DOMException('the endpoint did not answer in time', 'TimeoutError'));
    }, this.timeoutMs);
    const onAbort = () => call.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const abortSignal = call.signal;
    let body: Uint8Array | undefined;
    try {
      const input = {
        EndpointName: this.endpointName,
        ContentType: 'application/json',
        Accept: 'application/json',
        Body: UTF8_ENCODER.encode(JSON.stringify(request)),
      };
      let output: InvokeEndpointCommandOutput;
      if (signalCarriers.has(this.runtime)) {
        inputSignals.set(input, abortSignal);
        output = await untilAborted(this.runtime.send(new InvokeEndpointCommand(input)), abortSignal);
      } else {
        output = await this.runtime.send(new InvokeEndpointCommand(input), { abortSignal });
      }
      body = output.Body;
    } catch (error) {
      throw classify(error, timedOut);
    } finally {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
    }
    return checkedCount(request, parseResponse(body));
  }
}

/**
 * One prediction per input, or the answer is unusable: every caller pairs predictions with its inputs
 * by position, so the check lives here, once, for all of them.
 */
function checkedCount(request: PredictionRequest, response: PredictionResponse): PredictionResponse {
  const expected = 'logs' in request ? request.logs.length : vectorsOf(request).length;
  const got = response.predictions.length;
  if (got !== expected) {
    throw new EndpointError(
      'bad_response',
      `the endpoint returned ${got} ${got === 1 ? 'prediction' : 'predictions'} for ${expected} ${expected === 1 ? 'input' : 'inputs'}`,
    );
  }
  return response;
}

/** Decodes answers; stateless between calls (no `stream` option), so one serves them all. */
const UTF8 = new TextDecoder();
/** Encodes requests; stateless, so one serves them all. */
const UTF8_ENCODER = new TextEncoder();

function parseResponse(body: Uint8Array | undefined): PredictionResponse {
  if (!body) throw new EndpointError('bad_response', 'the endpoint answered with an empty body');
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(body));
  } catch (error) {
    throw new EndpointError('bad_response', 'the endpoint answered with invalid JSON', error);
  }
  if (isPredictionResponse(value)) return value;
  const parsed = PredictionResponseSchema.safeParse(value);
  if (!parsed.success) {
    throw new EndpointError(
      'bad_response',
      'the endpoint answer does not match the prediction schema',
      parsed.error,
    );
  }
  return parsed.data;
}

/**
 * Classifies an SDK error by what it means, not by its HTTP class: SageMaker answers `ModelError`
 * (424) for *any* non-2xx from the container, so only its `OriginalStatusCode` tells a rejected input
 * (400/413/422) from a crashed model (5xx); `ValidationError` (400) is a missing endpoint.
 */
function classify(error: unknown, timedOut: boolean): EndpointError {
  if (error instanceof EndpointError) return error;
  const e = (error ?? {}) as {
    name?: string;
    OriginalStatusCode?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (timedOut || name === 'TimeoutError' || name === 'AbortError') {
    return new EndpointError('timeout', 'the endpoint did not answer in time', error);
  }
  if (name === 'ThrottlingException' || name === 'ThrottlingError' || status === 429) {
    return new EndpointError('throttled', 'the endpoint throttled the call', error);
  }
  if (name === 'ModelError') {
    const original = typeof e.OriginalStatusCode === 'number' ? e.OriginalStatusCode : undefined;
    if (original !== undefined && INPUT_REJECTION_STATUSES.has(original)) {
      return new EndpointError('rejected_input', `the model rejected the input (${original})`, error);
    }
    return new EndpointError('model_error', `the model container failed (${original ?? 'no status'})`, error);
  }
  if (name === 'ValidationError') {
    return new EndpointError('missing_endpoint', 'the endpoint does not exist or is not in service', error);
  }
  // A model server answering directly (the local runtime, no SageMaker in front): its own 4xx is about
  // the input. A named AWS error with a 4xx is not (those are handled above or are the caller's setup).
  const unnamed = name === '' || name === 'Error' || name === 'UnknownError' || name.startsWith('Unknown');
  if (unnamed && status !== undefined && INPUT_REJECTION_STATUSES.has(status)) {
    return new EndpointError('rejected_input', `the model rejected the input (${status})`, error);
  }
  return new EndpointError('unavailable', `the endpoint call failed (${name || 'network error'})`, error);
}
