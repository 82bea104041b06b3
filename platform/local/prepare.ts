import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * First-start preparation that the image build does in AWS: the console's static assets (`vite build`,
 * services/frontend/README.md). Skipped when the output exists and is newer than every source it is
 * built from, so a warm start pays only a directory walk.
 */

/** Where the frontend's vite config, sources and build output live. */
export const FRONTEND = {
  config: 'services/frontend/vite.config.ts',
  sources: [
    'services/frontend/src',
    'services/frontend/public',
    'services/frontend/index.html',
    'services/frontend/vite.config.ts',
  ],
  outputIndex: 'services/frontend/dist/public/index.html',
} as const;

/** Newest modification time under `path` (a file or a directory tree); 0 when it does not exist. */
export function newestMtimeMs(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  return newest;
}

/** Whether the build output is missing or older than a source. */
export function assetsStale(root: string): boolean {
  const index = join(root, FRONTEND.outputIndex);
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return FRONTEND.sources.some((s) => newestMtimeMs(join(root, s)) > built);
}

/** Builds the console's assets when missing or stale; prints what it does. */
export async function prepareFrontendAssets(root: string, print: (line: string) => void): Promise<void> {
  const config = join(root, FRONTEND.config);
  if (!existsSync(config) || !assetsStale(root)) return;
  print(
    `building the console's assets (vite build): ${FRONTEND.outputIndex} is missing or older than its sources`,
  );
  const started = Date.now();
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [vite, 'build', '--config', config, '--logLevel', 'warn'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', (c) => resolve(c));
    child.once('error', () => resolve(null));
  });
  if (code !== 0 || !existsSync(join(root, FRONTEND.outputIndex))) {
    throw new Error(`vite build of the console failed (exit ${code}); run it by hand to see why`);
  }
  print(`console assets built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
