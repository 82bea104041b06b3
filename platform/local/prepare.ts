import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * First-start preparation the image build does in AWS: the console's static assets (`vite build`).
 * Skipped when the build output is present and newer than every source file it was built from.
 */

/** Where the frontend's vite config and build output live (services/frontend/README.md). */
export const FRONTEND = {
  dir: 'services/frontend',
  config: 'services/frontend/vite.config.ts',
  outputIndex: 'services/frontend/dist/index.html',
} as const;

/** Builds the console's assets when missing; prints what it does. */
export async function prepareFrontendAssets(root: string, print: (line: string) => void): Promise<void> {
  const config = join(root, FRONTEND.config);
  const index = join(root, FRONTEND.outputIndex);
  if (!existsSync(config)) return;
  if (existsSync(index)) return;
  print(`building the console's assets (vite build, first start only): ${FRONTEND.outputIndex} is missing`);
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
  if (code !== 0 || !existsSync(index)) {
    throw new Error(`vite build of the console failed (exit ${code}); run it by hand to see why`);
  }
  print(
    `console assets built in ${((Date.now() - started) / 1000).toFixed(1)} s (${statSync(index).size} bytes index)`,
  );
}
