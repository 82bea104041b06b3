import { z } from 'zod';

/**
 * What an `OperationsConsole` hands its web server and what the web server reads, in one place: the
 * variables' names, the default API service and the shape of the path the console is served under
 * (config/lib/operations-console.ts writes them; services/frontend/server/config.ts parses them).
 */

/** The variable that tells the console's web server the path it is served under; unset: the root. */
export const CONSOLE_BASE_PATH_VARIABLE = 'BASE_PATH';

/** The variable naming the console's API service, whose `<NAME>_URL` the web server proxies `/api` to. */
export const CONSOLE_API_SERVICE_VARIABLE = 'API_SERVICE';

/** The API service the web server proxies to when {@link CONSOLE_API_SERVICE_VARIABLE} is unset. */
export const DEFAULT_CONSOLE_API_SERVICE = 'backend';

/** A path the console is served under: one segment, which the ALB routes as `<path>` and `<path>/*`. */
export const CONSOLE_PATH_PATTERN = /^\/[A-Za-z0-9_-]{1,64}$/;

/** {@link CONSOLE_BASE_PATH_VARIABLE}'s value. */
export const ConsoleBasePathSchema = z
  .string()
  .regex(CONSOLE_PATH_PATTERN, "must be one path segment such as '/console'");
