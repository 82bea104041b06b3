import { z } from 'zod';
import {
  CONSOLE_API_SERVICE_VARIABLE,
  CONSOLE_BASE_PATH_VARIABLE,
  ConsoleBasePathSchema,
  DEFAULT_CONSOLE_API_SERVICE,
} from '../../../contracts/console-web.ts';
import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { serviceUrlVariable } from '../../../contracts/service-directory.ts';
import { httpServerLimits } from '../../../runtime/http-server.ts';
import { envInt, presentValues } from '../../../runtime/process.ts';

/**
 * The frontend server's limits. Its client on AWS is the ALB: keep-alive outlasts the ALB's idle timeout
 * (60 s unless `edge.idleTimeoutSeconds` says otherwise), or the ALB reuses a connection the server is
 * closing and answers 502; headers up to the ALB's own limit (64 KiB: session cookies, OIDC tokens).
 * The largest body it proxies is a prediction request.
 */
export const FRONTEND_SERVER_LIMITS = httpServerLimits({
  maxBodyBytes: PREDICTION_LIMITS.maxBodyBytes,
  keepAliveTimeoutMs: 65_000,
  maxHeaderBytes: 64 * 1024,
  maxConnections: 2048,
  // Longer than the keep-alive, for the few sockets Node does not switch to it (a stalled stream).
  idleTimeoutMs: 75_000,
});

/** The frontend's environment contract (see ../README.md), parsed once by `main.ts`. */
export const FrontendEnvSchema = z.object({
  PORT: envInt(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * Where `/api/*` is proxied to: Service Connect / Cloud Map name on AWS, loopback locally.
   * @default - the URL the platform hands for API_SERVICE (`<API_SERVICE>_URL`), else http://127.0.0.1:8081
   */
  BACKEND_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** The console's API service (an OperationsConsole's `apiName`), whose `<NAME>_URL` the platform sets. */
  [CONSOLE_API_SERVICE_VARIABLE]: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a service name')
    .default(DEFAULT_CONSOLE_API_SERVICE),
  /** The path the ALB serves the console under (an OperationsConsole's `path`); unset: the root. */
  [CONSOLE_BASE_PATH_VARIABLE]: ConsoleBasePathSchema.optional(),
  /** Longer than the backend's own upstream deadlines, so the backend's 504 reaches the browser first. */
  BACKEND_TIMEOUT_MS: envInt(100, 120_000).default(10_000),
  /** The built console (vite output). @default - `public/` next to the bundle, else `../dist/public` */
  ASSETS_DIR: z.string().min(1).optional(),
  /** The ALB whose `x-amzn-oidc-data` signature is verified. @default - decoded for display only */
  ALB_ARN: z
    .string()
    .regex(/^arn:aws[\w-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/app\//, 'must be an ALB ARN')
    .optional(),
  /** Where sign-out sends the browser (the IdP's logout endpoint). @default / */
  SIGN_OUT_REDIRECT_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
});
export type FrontendEnv = z.infer<typeof FrontendEnvSchema>;

/** Empty strings count as unset. */
export function parseFrontendEnv(source: Record<string, string | undefined>): FrontendEnv {
  const present = presentValues(source);
  return FrontendEnvSchema.parse(present);
}

/** Where the API is: BACKEND_URL, else the variable the platform sets for API_SERVICE, else loopback. */
export function backendUrlOf(env: FrontendEnv, source: Record<string, string | undefined>): string {
  if (env.BACKEND_URL) return env.BACKEND_URL;
  const variable = serviceUrlVariable(env.API_SERVICE);
  const handed = presentValues(source)[variable];
  if (handed === undefined) return 'http://127.0.0.1:8081';
  if (!z.url({ protocol: /^https?$/ }).safeParse(handed).success) {
    throw new Error(`${variable} ('${handed}') must be an http(s) URL`);
  }
  return handed;
}
