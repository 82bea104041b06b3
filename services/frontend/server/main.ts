import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { serveHttp } from '../../../runtime/http-server.ts';
import {
  closeServer,
  failOnListenError,
  failStart,
  readEnv,
  stopOnSignal,
} from '../../../runtime/process.ts';
import { stdoutSink } from '../../../runtime/request-log.ts';
import { createFrontendApp, underBasePath } from './app.ts';
import { backendUrlOf, FRONTEND_SERVER_LIMITS, type FrontendEnv, FrontendEnvSchema } from './config.ts';
import { loadStaticAssets } from './static-assets.ts';

/**
 * The frontend process: reads the environment (see ../README.md), loads the built console into
 * memory, serves it and proxies `/api` to the backend; SIGTERM closes it cleanly.
 */

/** In the image the bundle sits next to `public/`; from source, vite's output is `../dist/public`. */
function assetsDir(env: FrontendEnv): string {
  if (env.ASSETS_DIR) return resolve(env.ASSETS_DIR);
  const here = dirname(fileURLToPath(import.meta.url));
  const bundled = join(here, 'public');
  return existsSync(bundled) ? bundled : join(here, '..', 'dist', 'public');
}

const env = readEnv('frontend', FrontendEnvSchema);
const dir = assetsDir(env);
let assets: ReturnType<typeof loadStaticAssets>;
try {
  assets = loadStaticAssets(dir);
} catch (error) {
  failStart('frontend', (error as Error).message);
}
let backendUrl: string;
try {
  backendUrl = backendUrlOf(env, process.env);
} catch (error) {
  failStart('frontend', (error as Error).message);
}
const consoleApp = createFrontendApp({
  assets,
  backendUrl,
  backendTimeoutMs: env.BACKEND_TIMEOUT_MS,
  identity: { albArn: env.ALB_ARN, signOutRedirectUrl: env.SIGN_OUT_REDIRECT_URL },
});
const app = env.BASE_PATH ? underBasePath(consoleApp, env.BASE_PATH) : consoleApp;
const server = serveHttp(
  {
    listener: getRequestListener(app.fetch, { autoCleanupIncoming: false }),
    port: env.PORT,
    hostname: env.HOST,
    limits: FRONTEND_SERVER_LIMITS,
  },
  (info) => {
    stdoutSink({
      level: 'info',
      time: new Date().toISOString(),
      msg: 'listening',
      service: 'frontend',
      address: info.address,
      port: info.port,
      backendUrl,
      basePath: env.BASE_PATH ?? '/',
      assets: assets.size,
    });
  },
);

failOnListenError('frontend', server);
stopOnSignal({ name: 'frontend', graceMs: 5000, stop: () => closeServer(server) });
