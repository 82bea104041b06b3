import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, toErrorResponse } from '../../contracts/errors.ts';
import { PREDICTION_LIMITS } from '../../contracts/prediction.ts';
import { bodyTooLarge } from '../../runtime/body-limit.ts';
import { assertJsonContentType } from '../../runtime/json-body.ts';
import { parsePredictionRequest } from '../../runtime/prediction-request.ts';
import type { AnomalyModel } from '../core/model.ts';

/**
 * `POST /invocations` (and `/endpoints/{name}/invocations`) on plain `node:http`, beside the hono app
 * that answers every other route. This is the endpoint's hot path: turning each call into a fetch
 * `Request` and back costed as much as scoring a 100-line batch (`npm run bench:model`), so the same
 * checks — 503 while loading, 415 before the body is read, 413 past the body limit, 400 from the
 * contract's parser, 500 logged — run here directly, with the contract's own functions and error shape.
 */

const ENDPOINT_INVOCATIONS = /^\/endpoints\/[^/]+\/invocations$/;

/** Whether a request is one this listener answers. */
export function isInvocation(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || req.url === undefined) return false;
  const query = req.url.indexOf('?');
  const path = query < 0 ? req.url : req.url.slice(0, query);
  return path === '/invocations' || ENDPOINT_INVOCATIONS.test(path);
}

/**
 * Answers one invocation. `model()` is the loaded model, or undefined while it loads.
 *
 * @example
 * createServer((req, res) => (isInvocation(req) ? answerInvocation(req, res, () => model, log) : other(req, res)));
 */
export function answerInvocation(
  req: IncomingMessage,
  res: ServerResponse,
  model: () => AnomalyModel | undefined,
  log: (error: unknown) => void,
): void {
  const fail = (error: unknown) => {
    const { status, body } = toErrorResponse(error);
    if (status === 500) log(error);
    send(res, status, JSON.stringify(body));
    // An unread body is discarded rather than kept flowing in.
    req.resume();
  };
  try {
    if (!model()) throw new ApiError('unavailable', 'the model is still loading');
    const contentType = req.headers['content-type'];
    assertJsonContentType(contentType);
    const declared = Number(req.headers['content-length']);
    if (declared > PREDICTION_LIMITS.maxBodyBytes) throw tooLarge(declared);
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > PREDICTION_LIMITS.maxBodyBytes) {
        failed = true;
        fail(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      try {
        const text =
          chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
        const request = parsePredictionRequest(text, contentType);
        send(res, 200, JSON.stringify(model()!.score(request)));
      } catch (error) {
        fail(error);
      }
    });
    req.on('error', (error) => {
      if (!failed && !res.headersSent) fail(error);
    });
  } catch (error) {
    fail(error);
  }
}

function tooLarge(declared?: number): ApiError {
  return bodyTooLarge(PREDICTION_LIMITS.maxBodyBytes, declared);
}

function send(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
