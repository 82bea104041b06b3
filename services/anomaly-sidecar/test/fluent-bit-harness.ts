import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FluentClient } from '@fluent-org/logger';
import { serve } from '@hono/node-server';
import { LOG_ROUTER } from '../contract.ts';
import { createSidecar, type Sidecar } from '../src/sidecar.ts';
import {
  FIRELENS_MAIN_CONF,
  type FluentBitCapabilities,
  findFluentBit,
  fluentBitCapabilities,
  isSharedBuild,
  MEMORY_BUFFERING_WRAPPER,
  memoryBufferingNotice,
  SHARED_FLUENT_BIT,
  slowerFlushNotice,
} from './fluent-bit-build.ts';
import {
  type EndpointMode,
  type SwitchableEndpoint,
  scorerFor,
  startSwitchableEndpoint,
  TEST_INTAKE_TOKEN,
  testConfig,
} from './support.ts';

/**
 * The real Fluent Bit 1.9.10 (`FLUENT_BIT_BIN`, by default the shared build `../shared/tools/fluent-bit`,
 * README there) running the router image's config: FireLens's main config (the shared
 * `firelens-main.conf`) with the forward inputs given filesystem buffering by the image's
 * `filesystem-inputs.sh`, and `extra.conf` with only its addresses and paths moved to this test (the
 * sidecar's port, the CloudWatch Logs stand-in, the storage directory). Buffer and retry settings are the
 * image's own, except on a build without the storage backlog input (the shared one): there the config
 * runs without its `storage.*` keys, through `fluent-bit-memory-buffering.sh`, and the test
 * output says so (see fluent-bit-build.ts).
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export { findFluentBit, fluentBitCapabilities };

/** A build to run, with what it can do. */
export interface FoundFluentBit {
  readonly bin: string;
  readonly capabilities: FluentBitCapabilities;
}

/**
 * The build, or a loud skip reason. With REQUIRE_FLUENT_BIT=1 (CI) a missing build throws instead, so
 * the router's real behaviour is never silently untested there.
 */
export function fluentBitOrSkip(): FoundFluentBit | { skip: string } {
  const bin = findFluentBit();
  if (bin) return { bin, capabilities: fluentBitCapabilities(bin) };
  const where = process.env.FLUENT_BIT_BIN
    ? `FLUENT_BIT_BIN=${process.env.FLUENT_BIT_BIN} is not an executable file`
    : `the shared build is missing (${SHARED_FLUENT_BIT ?? '../shared/tools/fluent-bit/bin/fluent-bit'})`;
  const message = `FLUENT BIT NOT FOUND (${where}): the real-router tests are SKIPPED`;
  if (process.env.REQUIRE_FLUENT_BIT === '1') throw new Error(`${message}, but REQUIRE_FLUENT_BIT=1`);
  process.stderr.write(`\n!!! ${message} !!!\n\n`);
  return { skip: message };
}

/** A free TCP port on 127.0.0.1 (the kernel's choice, port 0). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One PutLogEvents event as the stand-in received it. */
export interface DeliveredEvent {
  readonly logStreamName: string;
  readonly message: string;
}

/** A CloudWatch Logs stand-in: CreateLogStream and PutLogEvents over HTTPS, recorded. */
export interface CloudWatchStandIn {
  /** The `endpoint` value for the cloudwatch_logs output. */
  readonly host: string;
  /** Its certificate, for the router's `tls.ca_file`. */
  readonly caFile: string;
  readonly events: DeliveredEvent[];
  /** Events received (all of them, also when `keepEvents` is off). */
  readonly received: () => number;
  /** With `trackSeq`: distinct `seq=N` values received, and how many arrived more than once. */
  readonly seqs: () => { readonly distinct: number; readonly duplicates: number };
  /** Answers 503 to everything while true (CloudWatch Logs unavailable). */
  setFailing(failing: boolean): void;
  close(): Promise<void>;
}

/**
 * Fluent Bit 1.9's cloudwatch_logs output always speaks TLS to port 443 of its `endpoint` (no port
 * option), so the stand-in listens on 443 of a loopback address of its own (127.x.y.z, so concurrent
 * runs never collide) with a throwaway self-signed certificate.
 */
export async function startCloudWatchStandIn(
  options: CloudWatchStandInOptions = {},
): Promise<CloudWatchStandIn> {
  const dir = mkdtempSync(join(tmpdir(), 'cw-standin-'));
  const events: DeliveredEvent[] = [];
  const state = { failing: false, received: 0, distinct: 0, duplicates: 0 };
  const seen = options.trackSeq ? new Uint8Array(options.trackSeq) : undefined;
  const keep = options.keepEvents ?? true;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (state.failing) {
        res.writeHead(503, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': 'standin' });
        res.end('{"__type":"ServiceUnavailableException","message":"down"}');
        return;
      }
      // Fluent Bit refuses an answer without x-amzn-RequestId (matched case-sensitively), as AWS sends.
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': 'standin' });
      if (target.endsWith('PutLogEvents')) {
        const input = JSON.parse(body) as { logStreamName: string; logEvents: { message: string }[] };
        state.received += input.logEvents.length;
        for (const e of input.logEvents) {
          if (keep) events.push({ logStreamName: input.logStreamName, message: e.message });
          if (!seen) continue;
          const seq = /seq=(\d+)/.exec(e.message);
          if (!seq) continue;
          const n = Number(seq[1]);
          if (seen[n]) state.duplicates += 1;
          else {
            seen[n] = 1;
            state.distinct += 1;
          }
        }
        res.end(JSON.stringify({ nextSequenceToken: String(state.received) }));
        return;
      }
      res.end('{}');
    });
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    const octet = () => 1 + Math.floor(Math.random() * 250);
    const host = `127.${octet()}.${octet()}.${1 + octet()}`;
    // cloudwatch_logs in 1.9 always verifies (tls.verify is not honoured): a certificate for this
    // address, which the router's test config trusts with tls.ca_file.
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${host}`].concat([
        '-addext',
        `subjectAltName=IP:${host}`,
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    );
    const server: Server = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      handler,
    );
    const bound = await new Promise<boolean>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        error.code === 'EADDRINUSE' ? resolve(false) : reject(error),
      );
      server.listen(443, host, () => resolve(true));
    });
    if (!bound) continue;
    return {
      host,
      caFile: join(dir, 'cert.pem'),
      events,
      received: () => state.received,
      seqs: () => ({ distinct: state.distinct, duplicates: state.duplicates }),
      setFailing: (failing) => {
        state.failing = failing;
      },
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
          rmSync(dir, { recursive: true, force: true });
        }),
    };
  }
  throw new Error('no free loopback address for the CloudWatch Logs stand-in');
}

/** Options of {@link startRouter}. */
/** What {@link startCloudWatchStandIn} keeps. */
export interface CloudWatchStandInOptions {
  /** Keep every event in `events`. @default true */
  readonly keepEvents?: boolean;
  /** Track the `seq=N` of each message, N below this (volume tests). */
  readonly trackSeq?: number;
}

/** The delivery chain a router test runs: the model endpoint, the sidecar serving it, CloudWatch's stand-in, the router. */
export interface RouterChain {
  readonly endpoint: SwitchableEndpoint;
  readonly sidecar: Sidecar;
  readonly cloudWatch: CloudWatchStandIn;
  readonly router: RunningRouter;
  stop(): Promise<void>;
}

/** Starts a {@link RouterChain} on loopback, the router being the Fluent Bit at `bin`. */
export async function startRouterChain(
  bin: string,
  options: {
    readonly batchMaxAgeMs: number;
    /** The endpoint's mode before the sidecar starts. @default 'up' */
    readonly endpointMode?: EndpointMode;
    readonly cloudWatch?: CloudWatchStandInOptions;
  },
): Promise<RouterChain> {
  const endpoint = await startSwitchableEndpoint();
  if (options.endpointMode) endpoint.mode = options.endpointMode;
  const sidecar = createSidecar(testConfig({ batchMaxAgeMs: options.batchMaxAgeMs }), {
    scorer: scorerFor(endpoint.url),
    writeOut: () => {},
    stdoutBacklog: () => 0,
    log: () => {},
  });
  const server = serve({ fetch: sidecar.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const cloudWatch = await startCloudWatchStandIn(options.cloudWatch);
  const router = await startRouter({
    bin,
    sidecarPort: (server.address() as { port: number }).port,
    cloudWatchHost: cloudWatch.host,
    cloudWatchCaFile: cloudWatch.caFile,
  });
  return {
    endpoint,
    sidecar,
    cloudWatch,
    router,
    async stop() {
      await router.stop();
      await cloudWatch.close();
      await sidecar.pipeline.stop(0);
      await new Promise((resolve) => server.close(resolve));
      await endpoint.close();
    },
  };
}

export interface RouterOptions {
  readonly bin: string;
  readonly sidecarPort: number;
  readonly cloudWatchHost: string;
  readonly cloudWatchCaFile: string;
  /** Reuse a port (a replaced router keeps the address the log driver writes to). @default a free port */
  readonly forwardPort?: number;
  /** Chunk files (a replaced router finds what its predecessor buffered). @default a fresh directory */
  readonly storageDir?: string;
  /** Text of the task's config instead of extra.conf (the benchmark's "before" settings). */
  readonly configText?: string;
  /** The generated-config rewrite instead of the image's filesystem-inputs.sh. */
  readonly inputsScript?: string;
  /** Pins the router to these CPUs (taskset), as the benchmark measures it on one core. */
  readonly cpus?: string;
}

/** A running real Fluent Bit with the router config. */
export interface RunningRouter {
  readonly forwardPort: number;
  /** The config runs without its storage keys: the build cannot buffer on disk (test-only, announced). */
  readonly memoryBuffering: boolean;
  readonly pid: number;
  /** Its stderr/stdout so far (Fluent Bit logs there). */
  log(): string;
  /** SIGTERM and wait (Fluent Bit flushes within its grace period). */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

/** Writes the router's configs into a fresh directory and starts Fluent Bit on them. */
export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const dir = mkdtempSync(join(tmpdir(), 'router-'));
  const [forwardPort, healthPort] = [options.forwardPort ?? (await freePort()), await freePort()];
  const storageDir = options.storageDir ?? join(dir, 'storage');
  const extra = (options.configText ?? readFileSync(join(ROOT, LOG_ROUTER.configSources.scored), 'utf8'))
    .replace(/^(\s*Port\s+)9880$/m, `$1${options.sidecarPort}`)
    .replaceAll(
      /^(\s*auto_create_group\s+false)$/gm,
      `$1\n    endpoint ${options.cloudWatchHost}\n    tls.ca_file ${options.cloudWatchCaFile}`,
    )
    .replace(LOG_ROUTER.storagePath, `${storageDir}/`);
  writeFileSync(join(dir, 'extra.conf'), slowerFlushOnSharedBuild(options.bin, extra));
  if (!FIRELENS_MAIN_CONF)
    throw new Error('no ../shared/tools/fluent-bit/firelens-main.conf beside the repository');
  const generated = readFileSync(FIRELENS_MAIN_CONF, 'utf8')
    .replace('@INCLUDE CUSTOM_CONF_PATH', `@INCLUDE ${join(dir, 'extra.conf')}`)
    .replace(/Port 8877/, `Port ${healthPort}`);
  writeFileSync(join(dir, 'generated.conf'), generated);
  execFileSync('sh', [
    options.inputsScript ?? join(ROOT, LOG_ROUTER.inputsScript),
    join(dir, 'generated.conf'),
    join(dir, 'main.conf'),
  ]);
  // A build that cannot buffer on disk runs the config without its storage keys, loudly (see
  // fluent-bit-build.ts); a config that has none (the benchmark's "before") runs as it is.
  const usesStorage = /^\s*storage\./im.test(`${extra}\n${readFileSync(join(dir, 'main.conf'), 'utf8')}`);
  const memoryBuffering = usesStorage && !fluentBitCapabilities(options.bin).storageBacklog;
  if (memoryBuffering) announceOnce(memoryBufferingNotice(options.bin));
  const fluentBit = memoryBuffering
    ? ['sh', MEMORY_BUFFERING_WRAPPER, options.bin, '-c', join(dir, 'main.conf')]
    : [options.bin, '-c', join(dir, 'main.conf')];
  const [cmd, ...args] = options.cpus ? ['taskset', '-c', options.cpus, ...fluentBit] : fluentBit;
  const child: ChildProcess = spawn(cmd!, args, {
    env: {
      PATH: process.env.PATH ?? '',
      FLB_SOCKET: join(dir, 'fluent.sock'),
      FLB_FORWARD_PORT: String(forwardPort),
      [LOG_ROUTER.env.region]: 'us-east-1',
      [LOG_ROUTER.env.logGroupName]: 'acme/app',
      [LOG_ROUTER.env.logStreamPrefix]: 'backend/',
      [LOG_ROUTER.env.anomalyLogGroupName]: 'acme/anomaly',
      [LOG_ROUTER.env.intakeToken]: TEST_INTAKE_TOKEN,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      // An exit nobody asked for (a crash) is written into the log the tests print when they fail.
      if (!stopping) output += `\n[harness] Fluent Bit exited unasked: code ${code}, signal ${signal}\n`;
      resolve();
    }),
  );
  // A test process that ends without stopping it (a failed before(), a crash) takes the router along.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  void exited.then(() => process.off('exit', orphanGuard));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(forwardPort))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`Fluent Bit did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const end = async (signal: NodeJS.Signals) => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    // 1.9 can sit in its shutdown for minutes while chunks still wait on an output (seen after a failed
    // volume run): past its Grace (5 s) and a margin, it is killed so a test's teardown always ends.
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    forwardPort,
    memoryBuffering,
    pid: child.pid!,
    log: () => output,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

/** The shipped 0.2 s flush becomes 1 s on the shared build, announced (see isSharedBuild). */
function slowerFlushOnSharedBuild(bin: string, config: string): string {
  if (!isSharedBuild(bin) || !/^\s*Flush\s+0\.2\s*$/m.test(config)) return config;
  announceOnce(slowerFlushNotice(bin));
  return config.replace(/^(\s*Flush\s+)0\.2(\s*)$/m, (_, key: string, rest: string) => `${key}1${rest}`);
}

const announced = new Set<string>();

/** Prints a test-only difference once per process, where a reader of the test output sees it. */
function announceOnce(notice: string): void {
  if (announced.has(notice)) return;
  announced.add(notice);
  process.stderr.write(`\n!!! ${notice} !!!\n\n`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Chunks the router gave up on (or appends it refused), per output, from its own log. Fluent Bit 1.9
 * logs one line each: "cannot be retried" past an output's Retry_Limit, "is not retried (no retry
 * config)" for an output with `Retry_Limit no_retries` (the http output to the sidecar), "would exceed
 * total limit size in plugin <output>" for data refused past an output's storage.total_limit_size.
 */
export function routerDroppedChunks(log: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of log.matchAll(
    /chunk \S+ (?:'[^']+' )?(?:(?:cannot be retried|is not retried \(no retry config\)): task_id=\d+, input=[^ ]+ > output=|would exceed total limit size in plugin )([^ \n]+)/g,
  )) {
    counts[match[1]!] = (counts[match[1]!] ?? 0) + 1;
  }
  return counts;
}

/**
 * Sends records over the Fluentd forward protocol, as the awsfirelens log driver does; the tag is
 * FireLens's `<container>-firelens-<task id>`.
 */
export async function sendForward(
  port: number,
  lines: readonly string[],
  tag = 'app-firelens-0123',
): Promise<void> {
  const client = new FluentClient(tag, {
    socket: { host: '127.0.0.1', port, timeout: 5000 },
  });
  try {
    for (const line of lines) await client.emit({ log: line, source: 'stdout', container_name: 'app' });
  } finally {
    await client.disconnect();
  }
}

/** What the log-driver model of `forward-load.ts` reports when it is done. */
export interface ForwardLoadResult {
  readonly offered: number;
  readonly written: number;
  /** Lines the driver's buffer could not hold because the router did not read them in time. */
  readonly dropped: number;
  readonly stackTraces: number;
  readonly seconds: number;
}

/**
 * Runs `forward-load.ts` in its own process (the app's side of the task): RATE lines/s for SECONDS
 * to the router's forward port, through a driver buffer of `bufferLines`.
 */
export function runForwardLoad(options: {
  readonly port: number;
  readonly rate: number;
  readonly seconds: number;
  readonly bufferLines?: number;
  readonly stackEvery?: number;
  /** Docker's default: the app waits for room in the driver's buffer (nothing is dropped there). */
  readonly blocking?: boolean;
  readonly cpus?: string;
}): Promise<ForwardLoadResult> {
  const entry = fileURLToPath(new URL('./forward-load.ts', import.meta.url));
  const node = [process.execPath, '--import', 'tsx', entry];
  const [cmd, ...args] = options.cpus ? ['taskset', '-c', options.cpus, ...node] : node;
  const child = spawn(cmd!, args, {
    env: {
      PATH: process.env.PATH ?? '',
      FORWARD_PORT: String(options.port),
      RATE: String(options.rate),
      SECONDS: String(options.seconds),
      BUFFER_LINES: String(options.bufferLines ?? 1_048_576),
      STACK_EVERY: String(options.stackEvery ?? 0),
      BLOCKING: options.blocking ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ForwardLoadResult);
      } catch {
        reject(new Error(`forward-load exited ${code}: ${err.slice(-2000)}`));
      }
    }),
  );
}
