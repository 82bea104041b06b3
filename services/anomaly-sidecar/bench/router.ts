import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { LOG_ROUTER } from '../contract.ts';
import { createSidecar } from '../src/sidecar.ts';
import {
  findFluentBit,
  fluentBitCapabilities,
  routerDroppedChunks,
  runForwardLoad,
  startCloudWatchStandIn,
  startRouter,
} from '../test/fluent-bit-harness.ts';
import { scorerFor, startSwitchableEndpoint, testConfig } from '../test/support.ts';
import { cpuSeconds, sampleRss } from './measure.ts';

/**
 * `npm run bench:router` (issue 25): the real Fluent Bit 1.9.10 with the router image's config, pinned
 * to CPU 0, offered 50k / 100k / 200k lines/s for RUN_SECONDS by a log driver with ECS's default buffer
 * (forward-load.ts, CPU 1), delivering to the CloudWatch Logs stand-in and to the real sidecar (this
 * process, CPU 1, scoring on the real inference server; it pushes back what it cannot take). Each rate
 * runs RUNS times with the shipped settings (`after`) and with the settings before issue 25 (`before`:
 * Flush 1, Mem_Buf_Limit 16M on the generated inputs, memory buffering). Per run:
 * lines delivered to CloudWatch per second while offered, lines lost (offered − delivered once the
 * router has drained, up to DRAIN_SECONDS), the driver's drops, the router's CPU and RSS. Medians; the
 * last line is one JSON object.
 *
 * FLUENT_BIT_BIN picks the build (default: the shared one). The shipped settings need the storage
 * backlog input; on a build without it (the shared one) only `before` is measured, and the output says
 * why. SETTINGS=before,after (the default where the build allows) chooses.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RATES = (process.env.RATES ?? '50000,100000,200000').split(',').map(Number);
const RUNS = Number(process.env.RUNS ?? 3);
const RUN_SECONDS = Number(process.env.RUN_SECONDS ?? 15);
const DRAIN_SECONDS = Number(process.env.DRAIN_SECONDS ?? 60);
const SETTINGS_NAMES = ['before', 'after'] as const;
type Settings = (typeof SETTINGS_NAMES)[number];
const log = (msg: string) => process.stderr.write(`bench:router ${msg}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The router settings before issue 25, made from today's config so only those settings differ. */
function beforeSettings(dir: string): { configText: string; inputsScript: string } {
  const current = readFileSync(join(ROOT, LOG_ROUTER.configSources.scored), 'utf8');
  const sections = current.split(/^(?=\[)/m);
  const configText = sections
    .map((s) =>
      s.startsWith('[SERVICE]') ? '[SERVICE]\n    scheduler.base  1\n    scheduler.cap   5\n\n' : s,
    )
    .join('');
  const inputsScript = join(dir, 'bound-inputs.sh');
  writeFileSync(
    inputsScript,
    `awk '/^\\[/ { section = toupper($0) } { print } section == "[INPUT]" && tolower($1) == "name" && tolower($2) == "forward" { print "    Mem_Buf_Limit 16M" }' "$1" > "$2"\n`,
  );
  return { configText, inputsScript };
}

interface Run {
  readonly settings: Settings;
  readonly offered: number;
  readonly deliveredPerSecond: number;
  readonly lost: number;
  readonly driverDropped: number;
  readonly routerCpuSeconds: number;
  readonly routerRssMiB: number;
  readonly routerDrops: Record<string, number>;
}

async function main(): Promise<void> {
  const bin = findFluentBit();
  if (!bin) {
    throw new Error(
      'no Fluent Bit: FLUENT_BIT_BIN is not an executable, or ../shared/tools/fluent-bit is missing',
    );
  }
  const capable = fluentBitCapabilities(bin).storageBacklog;
  const requested = process.env.SETTINGS?.split(',');
  const unknown = requested?.filter((s) => !(SETTINGS_NAMES as readonly string[]).includes(s));
  if (unknown?.length) throw new Error(`SETTINGS: unknown ${unknown.join(',')}; use before,after`);
  if (requested?.includes('after') && !capable) {
    throw new Error(
      `SETTINGS=after needs the storage backlog input (filesystem buffering); ${bin} has none: set FLUENT_BIT_BIN to a build with it`,
    );
  }
  const settingsList = (requested ?? (capable ? SETTINGS_NAMES : ['before'])) as readonly Settings[];
  if (!capable && !requested) {
    log(
      `!!! ${bin} has no storage backlog input: the shipped settings (filesystem buffering) are NOT measured, only "before" !!!`,
    );
  }
  log(`${bin}: settings ${settingsList.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-router-'));
  const endpoint = await startSwitchableEndpoint();
  const runs: Run[] = [];
  try {
    for (const settings of settingsList) {
      for (const rate of RATES) {
        for (let run = 0; run < RUNS; run++) {
          const total = rate * RUN_SECONDS;
          const cloudWatch = await startCloudWatchStandIn({ keepEvents: false, trackSeq: total });
          const sidecar = createSidecar(testConfig({ batchMaxAgeMs: 100 }), {
            scorer: scorerFor(endpoint.url),
            writeOut: () => {},
            stdoutBacklog: () => 0,
            log: () => {},
          });
          const server = serve({ fetch: sidecar.app.fetch, port: 0, hostname: '127.0.0.1' });
          await new Promise((resolve) => server.once('listening', resolve));
          const router = await startRouter({
            bin,
            sidecarPort: (server.address() as AddressInfo).port,
            cloudWatchHost: cloudWatch.host,
            cloudWatchCaFile: cloudWatch.caFile,
            cpus: '0',
            ...(settings === 'before' ? beforeSettings(dir) : {}),
          });
          const rss = sampleRss(router.pid);
          const cpuBefore = cpuSeconds(router.pid);
          const started = performance.now();
          const load = await runForwardLoad({
            port: router.forwardPort,
            rate,
            seconds: RUN_SECONDS,
            cpus: '1',
          });
          const windowSeconds = (performance.now() - started) / 1000;
          const deliveredInWindow = cloudWatch.seqs().distinct;
          const deadline = Date.now() + DRAIN_SECONDS * 1000;
          let last = -1;
          while (Date.now() < deadline && cloudWatch.seqs().distinct < total) {
            // Stop early once nothing has moved for 10 s: what is not there by then is lost.
            const now = cloudWatch.seqs().distinct;
            if (now === last) break;
            last = now;
            await sleep(10_000);
          }
          const result: Run = {
            settings,
            offered: rate,
            deliveredPerSecond: Math.round(deliveredInWindow / windowSeconds),
            lost: total - cloudWatch.seqs().distinct,
            driverDropped: load.dropped,
            routerCpuSeconds: Math.round((cpuSeconds(router.pid) - cpuBefore) * 10) / 10,
            routerRssMiB: Math.round(rss.stop() * 10) / 10,
            routerDrops: routerDroppedChunks(router.log()),
          };
          runs.push(result);
          log(JSON.stringify(result));
          await router.stop();
          await cloudWatch.close();
          await sidecar.pipeline.stop(0);
          await new Promise((resolve) => server.close(resolve));
          await sleep(1000);
        }
      }
    }
  } finally {
    await endpoint.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const table = settingsList.flatMap((settings) =>
    RATES.map((offered) => {
      const of = runs.filter((r) => r.settings === settings && r.offered === offered);
      return {
        settings,
        offered,
        deliveredPerSecond: median(of.map((r) => r.deliveredPerSecond)),
        lost: median(of.map((r) => r.lost)),
        driverDropped: median(of.map((r) => r.driverDropped)),
        routerCpuSeconds: median(of.map((r) => r.routerCpuSeconds)),
        routerRssMiB: median(of.map((r) => r.routerRssMiB)),
        lostRatio: Math.round((median(of.map((r) => r.lost)) / (offered * RUN_SECONDS)) * 1000) / 1000,
      };
    }),
  );
  const after100k = table.find((r) => r.settings === 'after' && r.offered === 100_000);
  console.log(
    JSON.stringify({
      fluentBit: bin,
      runs: RUNS,
      runSeconds: RUN_SECONDS,
      table,
      goals: { lossless100k: after100k ? after100k.lost === 0 : null },
    }),
  );
}

await main();
