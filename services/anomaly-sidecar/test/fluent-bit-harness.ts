import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FluentClient } from '@fluent-org/logger';
import { sharedPath } from '../../../test/support/shared-folder.ts';
import { LOG_ROUTER } from '../contract.ts';
import { TEST_INTAKE_TOKEN } from './support.ts';

/**
 * The real Fluent Bit 1.9.10 (`../shared/tools/fluent-bit`, README there) running the router image's
 * config: FireLens's main config with the forward inputs bounded by the image's `bound-inputs.sh`, and
 * `extra.conf` with only its addresses moved to this test's loopback ports (the sidecar's port, the
 * metrics port, the CloudWatch Logs stand-in). Buffer limits and retry settings are the image's own.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FLUENT_BIT_DIR = sharedPath('tools', 'fluent-bit') ?? join(ROOT, '..', 'shared', 'tools', 'fluent-bit');

/** FLUENT_BIT_BIN, then `fluent-bit` on PATH, then the shared build; undefined when none runs. */
export function findFluentBit(): string | undefined {
  const candidates = [
    process.env.FLUENT_BIT_BIN,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'fluent-bit')),
    join(FLUENT_BIT_DIR, 'bin', 'fluent-bit'),
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/**
 * The binary, or a loud skip reason. With REQUIRE_FLUENT_BIT=1 (CI) a missing binary throws instead,
 * so the router's real behaviour is never silently untested there.
 */
export function fluentBitOrSkip(): { bin: string } | { skip: string } {
  const bin = findFluentBit();
  if (bin) return { bin };
  const message =
    'FLUENT BIT NOT FOUND (FLUENT_BIT_BIN, PATH, ../shared/tools/fluent-bit/bin/fluent-bit): the real-router tests are SKIPPED';
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
  /** Answers 503 to everything while true (CloudWatch Logs unavailable). */
  setFailing(failing: boolean): void;
  close(): Promise<void>;
}

/**
 * Fluent Bit 1.9's cloudwatch_logs output always speaks TLS to port 443 of its `endpoint` (no port
 * option), so the stand-in listens on 443 of a loopback address of its own (127.x.y.z, so concurrent
 * runs never collide) with a throwaway self-signed certificate.
 */
export async function startCloudWatchStandIn(): Promise<CloudWatchStandIn> {
  const dir = mkdtempSync(join(tmpdir(), 'cw-standin-'));
  const events: DeliveredEvent[] = [];
  const state = { failing: false };
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
        for (const e of input.logEvents)
          events.push({ logStreamName: input.logStreamName, message: e.message });
        res.end(JSON.stringify({ nextSequenceToken: String(events.length) }));
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
export interface RouterOptions {
  readonly bin: string;
  readonly sidecarPort: number;
  readonly cloudWatchHost: string;
  readonly cloudWatchCaFile: string;
  /** Reuse a port (a replaced router keeps the address the log driver writes to). @default a free port */
  readonly forwardPort?: number;
  /** @default 16M, the image's bound */
  readonly memBufLimit?: string;
}

/** A running real Fluent Bit with the router config. */
export interface RunningRouter {
  readonly forwardPort: number;
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
  const extra = readFileSync(join(ROOT, LOG_ROUTER.configSources.scored), 'utf8')
    .replace(/^(\s*Port\s+)9880$/m, `$1${options.sidecarPort}`)
    .replace(
      /^(\s*auto_create_group\s+false)$/m,
      `$1\n    endpoint ${options.cloudWatchHost}\n    tls.ca_file ${options.cloudWatchCaFile}`,
    );
  writeFileSync(join(dir, 'extra.conf'), extra);
  const generated = readFileSync(join(FLUENT_BIT_DIR, 'firelens-main.conf'), 'utf8')
    .replace('@INCLUDE CUSTOM_CONF_PATH', `@INCLUDE ${join(dir, 'extra.conf')}`)
    .replace(/Port 8877/, `Port ${healthPort}`);
  writeFileSync(join(dir, 'generated.conf'), generated);
  execFileSync(
    'sh',
    [
      join(ROOT, 'services/anomaly-sidecar/fluent-bit/bound-inputs.sh'),
      join(dir, 'generated.conf'),
      join(dir, 'main.conf'),
    ],
    {
      env: { ...process.env, FLB_MEM_BUF_LIMIT: options.memBufLimit ?? LOG_ROUTER.inputMemBufLimit },
    },
  );
  const child: ChildProcess = spawn(options.bin, ['-c', join(dir, 'main.conf')], {
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
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(forwardPort))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`Fluent Bit did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    forwardPort,
    pid: child.pid!,
    log: () => output,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
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

/** Chunks the router gave up on, per output, from its own log (Fluent Bit 1.9 logs one line each). */
export function routerDroppedChunks(log: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of log.matchAll(
    /chunk '[^']+' cannot be retried: task_id=\d+, input=[^ ]+ > output=([^ \n]+)/g,
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
