import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Context } from 'hono';

/**
 * The built console, read into memory once at start-up and compressed once (brotli and gzip): the
 * assets are small (tens of KiB), the root filesystem may be read-only, and only files that exist
 * at start-up can ever be served, so no request path reaches the filesystem.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

/** vite puts content-hashed files under `assets/`; they never change, so browsers may keep them a year. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** Everything else (index.html) is revalidated, so a deploy is picked up on the next load. */
export const REVALIDATE_CACHE = 'no-cache';

export interface StaticAsset {
  readonly body: Uint8Array;
  readonly gzip?: Uint8Array;
  readonly br?: Uint8Array;
  readonly type: string;
  readonly etag: string;
  readonly cacheControl: string;
}

/** Reads every file under `dir`, keyed by URL path (`/assets/index-3f2a.js`). */
export function loadStaticAssets(dir: string): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const file of walk(dir)) {
    const path = `/${relative(dir, file).split(sep).join('/')}`;
    const body = readFileSync(file);
    const ext = extname(file);
    const compressible = COMPRESSIBLE.has(ext) && body.byteLength > 256;
    assets.set(path, {
      body,
      ...(compressible
        ? {
            gzip: gzipSync(body, { level: 9 }),
            br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
          }
        : {}),
      type: TYPES[ext] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      cacheControl: path.startsWith('/assets/') ? IMMUTABLE_CACHE : REVALIDATE_CACHE,
    });
  }
  if (!assets.has('/index.html')) {
    throw new Error(`no index.html under ${dir}: build the console first (npm run build:web)`);
  }
  return assets;
}

/** Answers with the asset, honouring If-None-Match and the best encoding the client accepts. */
export function sendAsset(c: Context, asset: StaticAsset): Response {
  const headers: Record<string, string> = {
    'content-type': asset.type,
    'cache-control': asset.cacheControl,
    etag: asset.etag,
    vary: 'accept-encoding',
  };
  if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
  const accepted = c.req.header('accept-encoding') ?? '';
  const [encoding, body] =
    asset.br && /\bbr\b/.test(accepted)
      ? ['br', asset.br]
      : asset.gzip && /\bgzip\b/.test(accepted)
        ? ['gzip', asset.gzip]
        : [undefined, asset.body];
  if (encoding) headers['content-encoding'] = encoding;
  headers['content-length'] = String(body.byteLength);
  return new Response(c.req.method === 'HEAD' ? null : (body as Uint8Array<ArrayBuffer>), {
    status: 200,
    headers,
  });
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
