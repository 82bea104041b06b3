/**
 * `npm run images:verify`: builds EVERY `Dockerfile.*` at the repository root and starts each image,
 * checking its health endpoint, that it runs as a non-root user, and that it writes nothing to its
 * root filesystem (so it works with `readonlyRootFilesystem`). Prints a table, writes
 * `.local/images/verify.json` (read by `npm run bench:web`) and, last, one JSON line.
 *
 * No Docker engine or registry here: images are built with `buildah bud --isolation chroot` and
 * started with `buildah from` + `buildah run --isolation chroot` (podman run fails on rlimits in this
 * sandbox). A missing `node:24-bookworm-slim` is replaced by a stand-in (standin-base.sh); that hack
 * lives only in this folder, never in a Dockerfile.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LOG_ROUTER } from '../../services/anomaly-sidecar/contract.ts';
import { finishContainer, stopContainer } from './container.ts';
import { ROUTER_STANDIN, verifyRouter } from './router.ts';

/**
 * Each image's port, health path and the environment it needs to start (what ECS or SageMaker would
 * pass); a new `Dockerfile.<name>` must be added here.
 */
export const IMAGE_CHECKS: Record<
  string,
  { port: number; healthPath: string; env?: Record<string, string> }
> = {
  frontend: { port: 8080, healthPath: '/healthz' },
  backend: { port: 8081, healthPath: '/healthz' },
  // The endpoint is unreachable on purpose: the sidecar must be healthy without it (scoring is off the log path).
  sidecar: {
    port: 9880,
    healthPath: '/health',
    env: {
      SERVICE_NAME: 'verify',
      ENDPOINT_NAME: 'log-anomaly',
      ENDPOINT_URL: 'http://127.0.0.1:9',
      // On ECS the task's secret; any value of the required length here.
      INTAKE_TOKEN: 'images-verify-intake-token-0123456789abcdef',
    },
  },
  model: { port: 8080, healthPath: '/ping' },
};

// The images are built on Node.js 24 (LTS). This machine has Node.js 20 only, so the stand-in tagged
// with the FROM name carries the host's Node.js 20; the bundles target node20 and run on both.
const STANDIN_BASES = new Set(['node:24-bookworm-slim', 'docker.io/library/node:24-bookworm-slim']);
const root = new URL('../..', import.meta.url).pathname;
const outDir = join(root, '.local', 'images');
const HEALTH_DEADLINE_MS = 30_000;

interface Result {
  image: string;
  dockerfile: string;
  ok: boolean;
  buildSeconds?: number;
  health?: string;
  user?: string;
  writes?: string[];
  sizeBytes?: number;
  baseBytes?: number;
  overBaseBytes?: number;
  error?: string;
}

function run(cmd: string, args: string[], options: { quiet?: boolean } = {}): string {
  const result = spawnSync(cmd, args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: options.quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${result.status}: ${(result.stderr ?? '').slice(-2000)}`,
    );
  }
  return result.stdout.trim();
}

function baseImagesOf(dockerfile: string): string[] {
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const line of readFileSync(join(root, dockerfile), 'utf8').split('\n')) {
    const match = /^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!match) continue;
    if (!stages.has(match[1]!)) bases.push(match[1]!);
    if (match[2]) stages.add(match[2]);
  }
  return bases;
}

function imageExists(name: string): boolean {
  return spawnSync('buildah', ['inspect', '--type', 'image', name], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Apparent size of a container's root filesystem, in bytes. */
function rootfsBytes(image: string): number {
  const ctr = run('buildah', ['from', '--pull=never', '--quiet', image], { quiet: true });
  try {
    const mnt = run('buildah', ['mount', ctr], { quiet: true });
    return Number(run('du', ['-sbx', mnt], { quiet: true }).split(/\s+/)[0]);
  } finally {
    spawnSync('buildah', ['rm', ctr], { stdio: 'ignore' });
  }
}

async function waitHealthy(url: string, child: ChildProcess): Promise<string> {
  const deadline = Date.now() + HEALTH_DEADLINE_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the container exited with ${child.exitCode} before it was healthy`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return `HTTP ${res.status}`;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = String((error as Error).cause ?? error);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`not healthy within ${HEALTH_DEADLINE_MS / 1000} s (${last})`);
}

async function verify(name: string, dockerfile: string): Promise<Result> {
  const image = `localhost/platform-${name}:verify`;
  const check = IMAGE_CHECKS[name];
  if (!check) {
    return { image, dockerfile, ok: false, error: `no port/health entry for '${name}' in IMAGE_CHECKS` };
  }
  const started = performance.now();
  try {
    run('buildah', [
      'bud',
      '--isolation',
      'chroot',
      '--layers',
      '--pull=never',
      '--quiet',
      '-f',
      dockerfile,
      '-t',
      image,
      '.',
    ]);
  } catch (error) {
    return { image, dockerfile, ok: false, error: `build failed: ${(error as Error).message}` };
  }
  const buildSeconds = Math.round((performance.now() - started) / 100) / 10;
  // buildah 1.28's --format has no `json` function: read the whole inspection instead.
  const config = (
    JSON.parse(run('buildah', ['inspect', '--type', 'image', image], { quiet: true })) as {
      OCIv1: {
        config: { User?: string; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string };
      };
    }
  ).OCIv1.config;
  const user = config.User ?? '';
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  const result: Result = { image, dockerfile, ok: false, buildSeconds, user };
  if (user === '' || user === 'root' || user.startsWith('0')) {
    return { ...result, error: `runs as root (USER is '${user || 'unset'}')` };
  }

  const port = await freePort();
  const ctr = run('buildah', ['from', '--pull=never', '--quiet', image], { quiet: true });
  const mnt = run('buildah', ['mount', ctr], { quiet: true });
  const marker = join(outDir, `${name}.marker`);
  writeFileSync(marker, '');
  // Loopback only, and a free port: the host network is shared and 8080/8081 may be in use.
  const child = spawn(
    'buildah',
    [
      'run',
      '--isolation',
      'chroot',
      '--user',
      user,
      ...(config.WorkingDir ? ['--workingdir', config.WorkingDir] : []),
      '--env',
      `PORT=${port}`,
      '--env',
      `SAGEMAKER_BIND_TO_PORT=${port}`,
      '--env',
      'HOST=127.0.0.1',
      ...Object.entries(check.env ?? {}).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      ctr,
      '--',
      ...command,
    ],
    { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  try {
    result.health = await waitHealthy(`http://127.0.0.1:${port}${check.healthPath}`, child);
  } catch (error) {
    result.error = `${(error as Error).message}; output: ${output.trim().slice(-1500)}`;
  } finally {
    await stopContainer(child, 500);
  }

  return finishContainer(run, result, { ctr, mnt, marker });
}

async function main(): Promise<void> {
  if (spawnSync('buildah', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.error('images:verify: buildah is missing (apt-get install -y buildah debootstrap)');
    process.exit(1);
  }
  mkdirSync(outDir, { recursive: true });
  const dockerfiles = readdirSync(root)
    .filter((f) => /^Dockerfile\.[a-z0-9-]+$/.test(f))
    .sort();
  if (dockerfiles.length === 0) {
    console.error('images:verify: no Dockerfile.* at the repository root');
    process.exit(1);
  }
  const bases = [...new Set(dockerfiles.flatMap(baseImagesOf))];
  for (const base of bases) {
    if (imageExists(base)) continue;
    if (!STANDIN_BASES.has(base)) {
      console.error(`images:verify: base image ${base} is not in local storage and no registry is reachable`);
      process.exit(1);
    }
    run('bash', [
      join(root, 'scripts/images/standin-base.sh'),
      `docker.io/library/${base.replace(/^docker\.io\/library\//, '')}`,
    ]);
  }

  const results: Result[] = [];
  for (const dockerfile of dockerfiles) {
    const name = dockerfile.slice('Dockerfile.'.length);
    console.log(`images:verify: ${dockerfile} …`);
    const result = await verify(name, dockerfile);
    if (result.ok) {
      const base = baseImagesOf(dockerfile).at(-1)!;
      result.sizeBytes = rootfsBytes(result.image);
      result.baseBytes = rootfsBytes(base);
      result.overBaseBytes = result.sizeBytes - result.baseBytes;
    }
    results.push(result);
    console.log(`images:verify: ${dockerfile} ${result.ok ? 'ok' : `FAILED: ${result.error}`}`);
  }

  // The FireLens router image (services/anomaly-sidecar/fluent-bit/Dockerfile), on its own stand-in.
  console.log(`images:verify: ${LOG_ROUTER.dockerfile} …`);
  const router = await verifyRouter(run, root, outDir, `docker.io/library/${[...STANDIN_BASES][0]}`);
  if (router.ok) {
    const size = rootfsBytes(router.image);
    const base = rootfsBytes(ROUTER_STANDIN);
    results.push({ ...router, sizeBytes: size, baseBytes: base, overBaseBytes: size - base });
  } else {
    results.push(router);
  }
  console.log(`images:verify: ${LOG_ROUTER.dockerfile} ${router.ok ? 'ok' : `FAILED: ${router.error}`}`);

  const mb = (b?: number) => (b === undefined ? '-' : (b / 1e6).toFixed(1));
  console.log('\n| image | port | health | build s | user | over base MB | result |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const name = r.dockerfile.startsWith('Dockerfile.')
      ? r.dockerfile.slice('Dockerfile.'.length)
      : 'log-router';
    const check = IMAGE_CHECKS[name];
    console.log(
      `| ${name} | ${check?.port ?? '-'} | ${check?.healthPath ?? ''} ${r.health ?? ''} | ${r.buildSeconds ?? '-'} | ${r.user ?? '-'} | ${mb(r.overBaseBytes)} | ${r.ok ? 'ok' : `FAILED: ${r.error?.slice(0, 200)}`} |`,
    );
  }
  const summary = { ok: results.every((r) => r.ok), images: results };
  writeFileSync(join(outDir, 'verify.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    JSON.stringify({
      ok: summary.ok,
      images: results.map(({ image, ok, overBaseBytes, buildSeconds }) => ({
        image,
        ok,
        overBaseBytes,
        buildSeconds,
      })),
    }),
  );
  process.exit(summary.ok ? 0 : 1);
}

await main();
