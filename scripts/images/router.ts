import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { LOG_ROUTER } from '../../services/anomaly-sidecar/contract.ts';
import {
  FIRELENS_MAIN_CONF,
  findFluentBit,
  fluentBitCapabilities,
  MEMORY_BUFFERING_WRAPPER,
  memoryBufferingNotice,
} from '../../services/anomaly-sidecar/test/fluent-bit-build.ts';
import { finishContainer, stopContainer } from './container.ts';

/**
 * The log router image in `npm run images:verify`: built from its Dockerfile on a stand-in base (a
 * real Fluent Bit 1.9.10, router-standin.sh), started as ECS FireLens starts it (root, a tmpfs /tmp as
 * the task's scratch volume, the variables the task definition sets), healthy when the FireLens TCP
 * health input takes a record (the container health check's `nc` does the same), buffering as the
 * build allows (filesystem, or — on a build without the storage backlog input, the shared one — memory,
 * a test-only difference printed loudly), and writing nothing to its root filesystem.
 */

export const ROUTER_IMAGE = 'localhost/platform-log-router:verify';
/** The port of the health input in the FireLens-generated main config. */
const HEALTH_PORT = 8877;

/** The stand-in base to build: which Fluent Bit goes in, and whether it needs the memory-buffering wrapper. */
function routerStandin(): { image: string; inputs: string[]; memoryBuffering: boolean; bin: string } {
  const bin = findFluentBit();
  if (!bin || !FIRELENS_MAIN_CONF) {
    throw new Error(
      'no Fluent Bit: FLUENT_BIT_BIN is not an executable, or ../shared/tools/fluent-bit is missing',
    );
  }
  const memoryBuffering = !fluentBitCapabilities(bin).storageBacklog;
  const inputs = [bin, FIRELENS_MAIN_CONF, ...(memoryBuffering ? [MEMORY_BUFFERING_WRAPPER] : [])];
  // Named after what is inside: a stand-in of another build or an older wrapper is rebuilt, not reused.
  const hash = createHash('sha256');
  for (const file of inputs) hash.update(readFileSync(file));
  const image = `localhost/aws-for-fluent-bit-standin:2.34.3-${hash.digest('hex').slice(0, 12)}`;
  return { image, inputs, memoryBuffering, bin };
}

export interface RouterResult {
  readonly image: string;
  readonly dockerfile: string;
  ok: boolean;
  buildSeconds?: number;
  health?: string;
  user?: string;
  writes?: string[];
  error?: string;
  /** The stand-in base it was built on. */
  standin?: string;
  /** `filesystem` as shipped, or memory with the reason (a test-only difference of the stand-in). */
  buffering?: string;
}

type Run = (cmd: string, args: string[], options?: { quiet?: boolean }) => string;

function tcpHealthy(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: HEALTH_PORT }, () => {
      socket.end('{"health": "check"}\n', () => resolve(true));
    });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function verifyRouter(
  run: Run,
  root: string,
  outDir: string,
  nodeBase: string,
): Promise<RouterResult> {
  const dockerfile = LOG_ROUTER.dockerfile;
  const result: RouterResult = { image: ROUTER_IMAGE, dockerfile, ok: false };
  const started = performance.now();
  try {
    const standin = routerStandin();
    result.standin = standin.image;
    result.buffering = standin.memoryBuffering
      ? `memory (${memoryBufferingNotice(standin.bin)})`
      : 'filesystem';
    if (standin.memoryBuffering) console.log(`images:verify: !!! ${memoryBufferingNotice(standin.bin)} !!!`);
    run('bash', [join(root, 'scripts/images/router-standin.sh'), standin.image, nodeBase, ...standin.inputs]);
    run('buildah', [
      'bud',
      '--isolation',
      'chroot',
      '--layers',
      '--pull=never',
      '--quiet',
      '--build-arg',
      `FLUENT_BIT_IMAGE=${result.standin}`,
      '-f',
      dockerfile,
      '-t',
      ROUTER_IMAGE,
      '.',
    ]);
  } catch (error) {
    return { ...result, error: `build failed: ${(error as Error).message}` };
  }
  result.buildSeconds = Math.round((performance.now() - started) / 100) / 10;
  const config = (
    JSON.parse(run('buildah', ['inspect', '--type', 'image', ROUTER_IMAGE], { quiet: true })) as {
      OCIv1: { config: { User?: string; Entrypoint?: string[]; Cmd?: string[] } };
    }
  ).OCIv1.config;
  // FireLens runs the router as root to create its log socket (the task definition's one exception).
  result.user = config.User || 'root';
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  const ctr = run('buildah', ['from', '--pull=never', '--quiet', ROUTER_IMAGE], { quiet: true });
  const mnt = run('buildah', ['mount', ctr], { quiet: true });
  const marker = join(outDir, 'log-router.marker');
  writeFileSync(marker, '');
  const env = {
    FLB_SOCKET: '/tmp/fluent.sock',
    FLB_FORWARD_PORT: '24224',
    [LOG_ROUTER.env.region]: 'us-east-1',
    [LOG_ROUTER.env.logGroupName]: 'verify/app',
    [LOG_ROUTER.env.logStreamPrefix]: 'verify/',
    [LOG_ROUTER.env.anomalyLogGroupName]: 'verify/anomaly',
    AWS_ACCESS_KEY_ID: 'verify',
    AWS_SECRET_ACCESS_KEY: 'verify',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const child: ChildProcess = spawn(
    'buildah',
    [
      'run',
      '--isolation',
      'chroot',
      '--mount',
      'type=tmpfs,destination=/tmp',
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ctr,
      '--',
      ...command,
    ],
    { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let storage = '';
  const read = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
    storage ||= /\[storage\] version=[\d.]+, type=([\w+-]+)/.exec(output)?.[1] ?? '';
  };
  child.stdout?.on('data', read);
  child.stderr?.on('data', read);
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the router exited with ${child.exitCode}`);
      if (await tcpHealthy()) {
        result.health = `TCP ${HEALTH_PORT} accepted a record`;
        break;
      }
      if (Date.now() > deadline) throw new Error(`the health input did not answer within 30 s`);
      await new Promise((r) => setTimeout(r, 300));
    }
    // Every key of the config was accepted: Fluent Bit names an unknown one at start and stops.
    await new Promise((r) => setTimeout(r, 1500));
    if (/unknown configuration property|\[error\] \[config\]/.test(output)) {
      throw new Error('Fluent Bit refused a key of the config');
    }
    // The image's entrypoint gave the inputs filesystem buffering; memory only where the stand-in's
    // build cannot (announced above).
    const expected = result.buffering === 'filesystem' ? 'memory+filesystem' : 'memory-only';
    if (storage !== expected) {
      throw new Error(`Fluent Bit reported storage type=${storage || 'nothing'}, not ${expected}`);
    }
  } catch (error) {
    result.error = `${(error as Error).message}; output: ${output.trim().slice(-1500)}`;
  } finally {
    await stopContainer(child, 1000);
  }

  return finishContainer(run, result, { ctr, mnt, marker });
}
