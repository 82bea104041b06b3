import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../../../contracts/errors.ts';
import { SIDECAR_INTAKE_TOKEN_HEADER } from '../../../contracts/sidecar.ts';

/**
 * The intake's boundary: only the task's own log router may post records. Containers of an awsvpc task
 * share localhost (and locally every process of the machine reaches loopback), so the port alone admits
 * the app container and any local user; the router proves itself with the task's intake token, which
 * nothing else in the task is given. Checked before a byte of the body is read.
 */
export function requireIntakeToken(token: string, onRefused: () => void): MiddlewareHandler {
  // Digests of equal length, so the comparison takes the same time whatever the caller sent.
  const expected = digest(token);
  return async function intakeToken(c, next) {
    const given = c.req.header(SIDECAR_INTAKE_TOKEN_HEADER);
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      onRefused();
      // No keep-alive for a caller that is not the router: what it sends next is not read.
      c.header('connection', 'close');
      throw new ApiError(
        'unauthorized',
        `the intake takes records from the task's log router only (${SIDECAR_INTAKE_TOKEN_HEADER} missing or wrong)`,
      );
    }
    await next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
