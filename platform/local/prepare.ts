import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

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

/** How long a start waits for another process's build of the same assets before giving up. */
const BUILD_LOCK_WAIT_MS = 10 * 60_000;

/**
 * Holds the build of one checkout's assets to one process at a time: two starts of the same checkout
 * (two terminals, or test files run side by side on a fresh clone) would otherwise both build into the
 * same directory, and vite refuses a second build of a project while one runs. The lock is a directory
 * (its creation is atomic) beside the output, naming its holder; a holder that has died is replaced.
 * Returns the release, or undefined when the assets became fresh while waiting (another process built them).
 */
async function acquireBuildLock(root: string): Promise<(() => void) | undefined> {
  const lock = join(root, dirname(dirname(FRONTEND.outputIndex)), '.build-lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + BUILD_LOCK_WAIT_MS;
  for (;;) {
    // The claim names its holder before it becomes the lock (a rename is atomic), so a lock always
    // names one: a lock without a pid is dead, and no holder is ever waited on for not having named itself.
    const claim = `${lock}.${process.pid}.${randomUUID()}`;
    mkdirSync(claim);
    writeFileSync(join(claim, 'pid'), String(process.pid));
    try {
      renameSync(claim, lock);
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      rmSync(claim, { recursive: true, force: true });
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
    }
    if (!holderAlive(lock)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `another process has been building the console's assets for 10 minutes; remove ${lock} if none is`,
      );
    }
    await sleep(200);
    if (!assetsStale(root) && !existsSync(lock)) return undefined;
  }
}

/** Whether the process named in a build lock still runs (a lock that names none is dead: see the claim). */
function holderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Builds the console's assets when missing or stale; prints what it does. */
export async function prepareFrontendAssets(root: string, print: (line: string) => void): Promise<void> {
  const config = join(root, FRONTEND.config);
  if (!existsSync(config) || !assetsStale(root)) return;
  const release = await acquireBuildLock(root);
  if (!release) return;
  try {
    if (assetsStale(root)) await buildAssets(root, config, print);
  } finally {
    release();
  }
}

async function buildAssets(root: string, config: string, print: (line: string) => void): Promise<void> {
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
