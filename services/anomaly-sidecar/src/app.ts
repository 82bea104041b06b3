import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { Hono } from 'hono';
import {
  AnomaliesQuerySchema,
  type AnomaliesResponse,
  SeriesQuerySchema,
  type SeriesResponse,
} from '../../../contracts/anomaly.ts';
import { ApiError } from '../../../contracts/errors.ts';
import type { CountsResponse } from '../../../contracts/revision-counts.ts';
import {
  BodyLimitError,
  IntakeBudget,
  readBodyBounded,
  readIncomingBounded,
} from '../../../runtime/body-reader.ts';
import { jsonErrorHandler, jsonNotFound } from '../../../runtime/hono.ts';
import { parseWith } from '../../../runtime/json-body.ts';
import { SIDECAR_PATHS } from '../contract.ts';
import { IntakeBodyError, intakeFormatOf, isIntakeMediaType, parseIntakeBody } from './intake.ts';
import { requireIntakeToken } from './intake-auth.ts';
import type { ScoringPipeline } from './scoring-pipeline.ts';

const gunzipAsync = promisify(gunzip);
/** Decodes intake bodies; stateless between calls (no `stream` option), so one serves them all. */
const UTF8 = new TextDecoder();

/** Options for {@link createSidecarApp}. */
export interface SidecarAppOptions {
  readonly pipeline: ScoringPipeline;
  readonly serviceName: string;
  /** The revision it scores for (`GET /counts` names it). */
  readonly revision?: string;
  /** The task's intake token: a body without it in `x-intake-token` is refused (intake-auth.ts). */
  readonly intakeToken: string;
  /** Largest body, before and after gunzip. */
  readonly maxBodyBytes: number;
  /** Longest line accepted. */
  readonly maxLineChars: number;
  /** Bytes all bodies being read at once may hold, raw and gunzipped. @default 2 × maxBodyBytes */
  readonly maxBufferedBytes?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Unexpected errors (answered as a generic 500). */
  readonly log?: (error: unknown) => void;
}

// The query shapes are the backend's too (contracts/anomaly.ts): one rule for both anomaly sources.

/**
 * The sidecar's HTTP adapter: intake (`POST /logs`), health, Prometheus metrics, the console's
 * `/anomalies` and `/series`, and the deployment gate's `/counts`. It only translates HTTP; parsing and scoring live in pure modules.
 *
 * @example
 * const app = createSidecarApp({ pipeline, serviceName: 'backend', maxBodyBytes: 8 << 20, maxLineChars: 65536 });
 * await app.request('/logs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"date":1,"log":"x"}]' });
 */
export function createSidecarApp(options: SidecarAppOptions): Hono {
  const { pipeline, maxBodyBytes } = options;
  const budget = new IntakeBudget(options.maxBufferedBytes ?? 2 * maxBodyBytes);
  const clock = options.clock ?? Date.now;
  // The series starts here: this sidecar knows nothing of the time before it.
  const startedAt = clock();
  const app = new Hono();
  app.onError(jsonErrorHandler(options.log));
  app.notFound(jsonNotFound());

  const authenticated = requireIntakeToken(options.intakeToken, () =>
    pipeline.metrics.bodiesRejected.inc(1, 'unauthorized'),
  );
  app.post(SIDECAR_PATHS.intake, authenticated, async (c) => {
    const metrics = pipeline.metrics;
    const contentType = c.req.header('content-type');
    if (!isIntakeMediaType(contentType)) {
      metrics.bodiesRejected.inc(1, 'unsupported_media_type');
      throw new ApiError(
        'unsupported_media_type',
        `content type must be application/json or application/x-ndjson; got ${contentType ? `'${contentType}'` : 'none'}`,
      );
    }
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      metrics.bodiesRejected.inc(1, 'too_large');
      throw new ApiError('payload_too_large', `body is ${declared} bytes; the limit is ${maxBodyBytes}`);
    }
    const overloaded = (records: number) => {
      metrics.bodiesRejected.inc(1, 'overloaded');
      metrics.recordsPushedBack.inc(records);
      c.header('retry-after', '1');
      return new ApiError('unavailable', 'the scoring queue is full; retry later');
    };
    // Push back instead of accepting and dropping: a full queue refuses the body before reading it, so
    // it costs neither CPU nor a share of the intake budget (the server discards the unread body).
    if (pipeline.saturated) throw overloaded(0);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      // Behind the Node server the request is read directly (no web Request built for it).
      const incoming = (c.env as { incoming?: Readable } | undefined)?.incoming;
      bytes = incoming
        ? await readIncomingBounded(incoming, maxBodyBytes, budget)
        : await readBodyBounded(c.req.raw.body, maxBodyBytes, budget);
    } catch (error) {
      if (!(error instanceof BodyLimitError)) throw error;
      metrics.bodiesRejected.inc(1, error.reason);
      // The rest of the body is left to the server, which discards it within its limits and keeps the
      // connection (runtime/http-server.ts): closing it with the body unread resets it, and the reset
      // erased the answer a sender still writing had not read yet ('EPIPE' !== 413).
      if (error.reason === 'busy') {
        c.header('retry-after', '1');
        throw new ApiError('unavailable', error.message);
      }
      throw new ApiError(
        'payload_too_large',
        `body is over ${maxBodyBytes} bytes; the limit is ${maxBodyBytes}`,
      );
    }
    let held = bytes.byteLength;
    let result: ReturnType<typeof parseIntakeBody>;
    try {
      const encoding = c.req.header('content-encoding')?.trim().toLowerCase();
      if (encoding === 'gzip' || encoding === 'x-gzip') {
        // The expanded body counts against the same budget as the raw bytes.
        if (!budget.tryReserve(maxBodyBytes)) {
          metrics.bodiesRejected.inc(1, 'busy');
          c.header('retry-after', '1');
          throw new ApiError(
            'unavailable',
            'the sidecar is reading as many bodies as its memory allows; retry',
          );
        }
        held += maxBodyBytes;
        bytes = await gunzipBounded(bytes, maxBodyBytes, (reason) => metrics.bodiesRejected.inc(1, reason));
      } else if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
        metrics.bodiesRejected.inc(1, 'bad_encoding');
        throw new ApiError(
          'unsupported_media_type',
          `content encoding '${encoding}' is not supported; use gzip`,
        );
      }
      const text = UTF8.decode(bytes);
      try {
        result = parseIntakeBody(text, intakeFormatOf(contentType, text), {
          maxLineChars: options.maxLineChars,
          now: clock(),
        });
      } catch (error) {
        if (!(error instanceof IntakeBodyError)) throw error;
        metrics.bodiesRejected.inc(1, 'invalid_json');
        throw new ApiError('invalid_json', error.message);
      }
    } finally {
      budget.release(held);
    }
    if (!pipeline.canAdmit(result)) throw overloaded(result.records.length);
    pipeline.ingest(result);
    // 202: accepted for scoring. Skipped records are reported so a sender can see them, yet the body
    // is not refused: Fluent Bit would retry it, and the good records in it are already queued.
    return c.json(
      {
        accepted: result.records.length,
        rejected: result.rejected.malformed + result.rejected.oversized,
        ...(result.rejected.malformed + result.rejected.oversized > 0 ? { reasons: result.rejected } : {}),
      },
      202,
    );
  });

  app.get(SIDECAR_PATHS.health, (c) =>
    c.json({
      status: 'ok',
      service: options.serviceName,
      breaker: pipeline.breaker.state,
      queueDepth: pipeline.queueDepth,
    }),
  );

  app.get(SIDECAR_PATHS.metrics, (c) =>
    c.body(pipeline.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );

  app.get(SIDECAR_PATHS.anomalies, (c) => {
    const { limit } = parseWith(AnomaliesQuerySchema, c.req.query());
    const body: AnomaliesResponse = { service: options.serviceName, records: pipeline.history.newest(limit) };
    return c.json(body);
  });

  app.get(SIDECAR_PATHS.series, (c) => {
    const { bucketSeconds, buckets } = parseWith(SeriesQuerySchema, c.req.query());
    const body: SeriesResponse = {
      service: options.serviceName,
      bucketSeconds,
      since: startedAt,
      points: pipeline.series.points(clock(), bucketSeconds, buckets, startedAt),
    };
    return c.json(body);
  });

  app.get(SIDECAR_PATHS.counts, (c) => {
    const body: CountsResponse = {
      service: options.serviceName,
      ...(options.revision !== undefined ? { revision: options.revision } : {}),
      ...pipeline.counts.snapshot(),
    };
    return c.json(body);
  });

  return app;
}

/** Gunzip with the output bounded: a small gzip bomb must not expand past the body limit in memory. */
async function gunzipBounded(
  bytes: Uint8Array,
  maxBytes: number,
  reject: (reason: 'too_large' | 'bad_encoding') => void,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const out = await gunzipAsync(bytes, { maxOutputLength: maxBytes });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength) as Uint8Array<ArrayBuffer>;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      reject('too_large');
      throw new ApiError('payload_too_large', `body expands past the limit of ${maxBytes} bytes`);
    }
    reject('bad_encoding');
    throw new ApiError('invalid_request', 'body is not valid gzip');
  }
}
