#!/usr/bin/env node
// Bundles the web workload for its images (and for `npm run build:web`):
//   backend  → services/backend/dist/server.mjs          (esbuild, one file, node20)
//   frontend → services/frontend/dist/public/ (vite) + services/frontend/dist/server.mjs (esbuild)
//   frontend-server → services/frontend/dist/server.mjs only, beside the assets the installed package
//     ships (its `prepack` builds them; vite, a development dependency, is not installed there)
// Usage: node scripts/images/bundle.mjs [backend] [frontend | frontend-server]   (default: backend frontend)
import { existsSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('../..', import.meta.url).pathname;
const targets = process.argv.slice(2);
const wanted = targets.length > 0 ? targets : ['backend', 'frontend'];

/** Some dependencies still `require()` node built-ins; an ESM bundle needs a `require` for them. */
const banner = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

async function bundleServer(entry, outfile) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    banner: { js: banner },
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  console.log(`bundle: ${outfile} ${(bytes / 1024).toFixed(0)} KiB`);
}

for (const target of wanted) {
  if (target === 'backend') {
    await bundleServer('services/backend/main.ts', 'services/backend/dist/server.mjs');
  } else if (target === 'frontend') {
    const { build: viteBuild } = await import('vite');
    await viteBuild({ configFile: `${root}services/frontend/vite.config.ts`, logLevel: 'warn' });
    await bundleServer('services/frontend/server/main.ts', 'services/frontend/dist/server.mjs');
  } else if (target === 'frontend-server') {
    if (!existsSync(`${root}services/frontend/dist/public/index.html`)) {
      console.error(
        'bundle: services/frontend/dist/public is missing: the package ships it built. Fix: pack with `npm pack` (its prepack runs vite), or bundle `frontend` where the lockfile is',
      );
      process.exit(2);
    }
    await bundleServer('services/frontend/server/main.ts', 'services/frontend/dist/server.mjs');
  } else {
    console.error(`bundle: unknown target '${target}' (expected backend, frontend or frontend-server)`);
    process.exit(2);
  }
}
