import { type Context, Hono } from 'hono';
import { compress } from 'hono/compress';
import { secureHeaders } from 'hono/secure-headers';
import { errorBody } from '../../../contracts/errors.ts';
import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { bodyLimit } from '../../../runtime/body-limit.ts';
import { jsonErrorHandler } from '../../../runtime/hono.ts';
import { type LogSink, type RequestLogEnv, requestLog, stdoutSink } from '../../../runtime/request-log.ts';
import { type AlbIdentityOptions, mountAlbIdentity } from './alb-identity.ts';
import { backendProxy } from './backend-proxy.ts';
import { type StaticAsset, sendAsset } from './static-assets.ts';

/** Everything the frontend server needs, injected by `main.ts` and by tests. */
export interface FrontendDeps {
  /** The built console, from {@link loadStaticAssets}. */
  readonly assets: ReadonlyMap<string, StaticAsset>;
  readonly backendUrl: string;
  readonly backendTimeoutMs: number;
  /** The signed-in user from the ALB's `x-amzn-oidc-data` (AWS). @default - decoded, not verified */
  readonly identity?: AlbIdentityOptions;
  /** @default stdoutSink */
  readonly log?: LogSink;
}

/**
 * The console's CSP: everything from this origin only, no inline script or style, no framing. uPlot
 * and Solid set styles through the CSSOM, which `style-src 'self'` permits.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * The frontend server: the console's static assets with long-lived caching for hashed files,
 * compression, security headers, and `/api/*` proxied to the backend.
 *
 * @example
 * const app = createFrontendApp({ assets: loadStaticAssets('dist/public'), backendUrl: 'http://127.0.0.1:8081', backendTimeoutMs: 10_000 });
 */
export function createFrontendApp(deps: FrontendDeps): Hono<RequestLogEnv> {
  const log = deps.log ?? stdoutSink;
  const index = deps.assets.get('/index.html')!;
  const app = new Hono<RequestLogEnv>();

  app.use(requestLog('frontend', log));
  app.use(
    secureHeaders({
      contentSecurityPolicy: CONTENT_SECURITY_POLICY,
      permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
      referrerPolicy: 'no-referrer',
      xFrameOptions: 'DENY',
    }),
  );
  app.use(compress());
  app.onError(
    jsonErrorHandler((error) =>
      log({ level: 'error', time: new Date().toISOString(), msg: 'unhandled error', error: String(error) }),
    ),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const signedInUser = mountAlbIdentity(app, deps.identity);
  const identity = async (c: Context<RequestLogEnv>) => {
    const user = await signedInUser(c);
    return user ? `user:${user}` : `address:${clientAddress(c)}`;
  };

  app.all(
    '/api/*',
    // The largest body the backend accepts (a prediction request), so the proxy never forwards more.
    bodyLimit({ maxBytes: PREDICTION_LIMITS.maxBodyBytes }),
    backendProxy({ backendUrl: deps.backendUrl, timeoutMs: deps.backendTimeoutMs, identity }),
  );

  app.on(['GET', 'HEAD'], '*', (c) => {
    const asset = deps.assets.get(c.req.path);
    if (asset) return sendAsset(c, asset);
    // A missing hashed file or other file is a real 404; anything else is a console route.
    if (c.req.path.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(c.req.path)) {
      return c.json(errorBody('not_found', `no file at ${c.req.path}`), 404);
    }
    return sendAsset(c, index);
  });

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));
  return app;
}

/**
 * The console served under `basePath` (an OperationsConsole's `path`: the ALB forwards `/console` and
 * `/console/*` unchanged): `/console` redirects to `/console/` (the page's relative URLs resolve under
 * it), the prefix is taken off before the console's own routes see the request, and `/healthz` stays at
 * the root, where the load balancer's and the runtime's health checks ask.
 *
 * @example
 * const app = underBasePath(createFrontendApp(deps), '/console');
 */
export function underBasePath(app: Hono<RequestLogEnv>, basePath: string): Hono<RequestLogEnv> {
  const outer = new Hono<RequestLogEnv>();
  outer.get('/healthz', (c) => app.fetch(c.req.raw, c.env));
  outer.get(basePath, (c) => c.redirect(`${basePath}/${new URL(c.req.url).search}`, 308));
  outer.all(`${basePath}/*`, (c) => {
    const url = new URL(c.req.url);
    url.pathname = url.pathname.slice(basePath.length);
    const raw = c.req.raw;
    const init: RequestInit & { duplex?: 'half' } = {
      method: raw.method,
      headers: raw.headers,
      signal: raw.signal,
      ...(raw.body ? { body: raw.body, duplex: 'half' } : {}),
    };
    return app.fetch(new Request(url, init), c.env);
  });
  outer.notFound((c) =>
    c.json(
      errorBody(
        'not_found',
        `no route for ${c.req.method} ${c.req.path} (the console is under ${basePath}/)`,
      ),
      404,
    ),
  );
  return outer;
}

/**
 * The caller's address: the last `x-forwarded-for` entry is the one the load balancer in front appended
 * (the ALB on AWS, the local ALB locally; the frontend admits only it), else the peer of the socket.
 */
export function clientAddress(c: Context): string {
  const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
  if (forwarded) return forwarded.slice(0, 64);
  const socket = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
    ?.socket;
  return socket?.remoteAddress ?? 'unknown';
}
