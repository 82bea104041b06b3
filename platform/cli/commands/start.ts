import { resolve } from 'node:path';
import { demoRequests, parseDemoTrafficFlag, startDemoTraffic } from '../../local/demo-traffic.ts';
import { DEFAULT_SERVICE } from '../../local/fault-cli.ts';
import { type RunningPlatform, StartError, startPlatform } from '../../local/platform.ts';
import { PortInUseError, parsePortVariable } from '../../local/ports.ts';
import { prepareFrontendAssets } from '../../local/prepare.ts';
import { RunnerError } from '../../local/runners.ts';
import { killGroup } from '../../local/supervisor.ts';
import type { PlatformWiring } from '../../wiring/index.ts';
import type { CliCommand, CommandContext } from '../command.ts';
import { missingDeclaredFile } from '../declared-files.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { CLI_NAME, PACKAGE_ROOT } from '../package-root.ts';

const USAGE = `usage: npm start [-- --demo-traffic[=RPS]] [--now JOB …]

  --now JOB              run scheduled job JOB once as soon as the platform is ready (repeatable);
                         its schedule keeps firing as declared
  --env local            the only environment start runs: the declaration without any environment's
                         overrides (a declared environment is deployed, not run here)

environment:
  WEB_PORT=8080          local ALB (the console)             0 picks a free port
  API_PORT=8081          local API Gateway (POST /predict)   0 picks a free port
  MODEL_PORT=8082        SageMaker-runtime-compatible model endpoint
  LOCAL_API_KEY          require this x-api-key on the API (default: none)
  READY_TIMEOUT_SECONDS  give up if a health check has not passed by then (default 60)
  LOCAL_STATE_FILE       where pids and URLs are written (default .local/runtime.json)
  PLATFORM_DECLARATION   another declaration module to run (default config/declaration.ts)

Exit codes: 0 after a clean stop, 1 when a part never became healthy or failed to start, 2 for a
usage error, a port that is taken, or a bad declaration (its message alone on stderr).`;

/**
 * Whether the platform runs the console this package holds: an `OperationsConsole` (its images are the
 * package's own), or a service declared on this checkout's services/frontend.
 */
function runsPackageConsole(wiring: PlatformWiring, root: string): boolean {
  const consoleDir = resolve(PACKAGE_ROOT, 'services/frontend');
  return wiring.tasks.some(
    (t) =>
      t.image.kind === 'dockerfile' &&
      t.image.entry !== null &&
      resolve(t.image.source === 'platform' ? PACKAGE_ROOT : root, t.image.entry).startsWith(
        `${consoleDir}/`,
      ),
  );
}

interface StartSettings {
  readonly demoRps: number | undefined;
  /** Jobs to run once when ready (`--now JOB`). */
  readonly runNow: readonly string[];
  readonly ports: { readonly web: number; readonly api: number; readonly model: number };
  readonly readyTimeoutMs: number;
}

/** The arguments and the environment, or a usage error. */
function settingsOf(
  args: readonly string[],
  env: CommandContext['env'],
  jobs: readonly string[],
): StartSettings {
  const runNow: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const job = arg === '--now' ? args[++i] : arg.startsWith('--now=') ? arg.slice('--now='.length) : null;
    if (job === null) {
      rest.push(arg);
      continue;
    }
    if (!job) throw new Error('--now needs the name of a scheduled job');
    if (!jobs.includes(job)) {
      throw new Error(
        `--now ${job}: no scheduled job of that name (declared: ${jobs.length > 0 ? jobs.join(', ') : 'none'})`,
      );
    }
    runNow.push(job);
  }
  const unknown = rest.filter((a) => a !== '--demo-traffic' && !a.startsWith('--demo-traffic='));
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}`);
  const demoRps = parseDemoTrafficFlag(args);
  const ports = {
    web: parsePortVariable('WEB_PORT', env.WEB_PORT, 8080),
    api: parsePortVariable('API_PORT', env.API_PORT, 8081),
    model: parsePortVariable('MODEL_PORT', env.MODEL_PORT, 8082),
  };
  const timeout = env.READY_TIMEOUT_SECONDS ?? '60';
  if (!/^\d+$/.test(timeout) || Number(timeout) < 1) {
    throw new Error(`READY_TIMEOUT_SECONDS must be a whole number of seconds ≥ 1; got '${timeout}'`);
  }
  return { demoRps, runNow, ports, readyTimeoutMs: Number(timeout) * 1000 };
}

/**
 * `start`: the local renderer. Runs the wired platform on loopback until Ctrl-C (see
 * platform/local/README.md); a first signal stops it within the stop timeouts, a second kills every
 * process group at once.
 */
export const startCommand: CliCommand = {
  name: 'start',
  summary: 'run the whole platform on this machine (no AWS account, no Docker)',
  help: () => USAGE,
  needsDeclaration: () => true,
  environment: 'local',
  async run({ args, env, out, err, declared }: CommandContext): Promise<number> {
    let settings: StartSettings;
    try {
      settings = settingsOf(
        args,
        env,
        declared!.wiring.jobs.map((j) => j.job),
      );
    } catch (error) {
      err(`npm start: ${(error as Error).message}\n\n${USAGE}`);
      return EXIT_CODES.usage;
    }
    const { wiring, root } = declared!;
    const missing = missingDeclaredFile(declared!);
    if (missing) {
      err(missing);
      return EXIT_CODES.usage;
    }
    // Declared secrets come from the caller's environment locally (never from AWS).
    const secretNames = [...wiring.tasks, ...wiring.jobs].flatMap((t) =>
      t.containers.flatMap((c) =>
        Object.entries(c.environment).flatMap(([name, source]) => (source.kind === 'secret' ? [name] : [])),
      ),
    );
    const secretValues = Object.fromEntries(
      secretNames.flatMap((k) => (env[k] !== undefined ? [[k, env[k]!]] : [])),
    );

    // Signals during start-up abort it; afterwards they stop the running platform.
    let stopRequested = false;
    const startup = new AbortController();
    let stop: (() => Promise<void>) | undefined;
    let running: RunningPlatform | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopRequested) {
        // A second Ctrl-C: do not wait for stop timeouts.
        err(`local | ${signal} again: killing every process group now`);
        for (const p of running?.state().processes ?? [])
          for (const g of p.processGroups) killGroup(g, 'SIGKILL');
        process.exit(EXIT_CODES.interrupted);
      }
      stopRequested = true;
      startup.abort();
      err(`local | ${signal}: stopping (again to kill at once)`);
      void stop?.().then(() => process.exit(EXIT_CODES.ok));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    try {
      running = await startPlatform({
        wiring,
        root,
        packageRoot: PACKAGE_ROOT,
        webPort: settings.ports.web,
        apiPort: settings.ports.api,
        modelPort: settings.ports.model,
        readyTimeoutMs: settings.readyTimeoutMs,
        secretValues,
        signal: startup.signal,
        stateFile: resolve(root, env.LOCAL_STATE_FILE ?? '.local/runtime.json'),
        // The console's assets, only when the platform runs the console this package holds.
        ...(runsPackageConsole(wiring, root)
          ? { prepare: (print: (line: string) => void) => prepareFrontendAssets(PACKAGE_ROOT, print) }
          : {}),
        ...(env.LOCAL_API_KEY ? { apiKey: env.LOCAL_API_KEY } : {}),
      });
    } catch (error) {
      if (stopRequested) {
        err('npm start: interrupted during start-up; everything started was stopped');
        return EXIT_CODES.interrupted;
      }
      if (error instanceof PortInUseError || error instanceof RunnerError) {
        err(`npm start: ${error.message}`);
        return EXIT_CODES.usage;
      }
      if (error instanceof StartError) {
        err(`npm start: ${error.message}`);
        return EXIT_CODES.failed;
      }
      err(`npm start: could not start: ${(error as Error).stack ?? String(error)}`);
      return EXIT_CODES.failed;
    }
    const platform = running;
    let demo: ReturnType<typeof startDemoTraffic> | undefined;
    stop = async () => {
      demo?.stop();
      await platform.stop();
      const stats = platform.forwarderStats();
      const lines = Object.entries(stats).map(
        ([label, s]) => `${label}: ${s.forwarded} forwarded, ${s.dropped} dropped, ${s.rejected} rejected`,
      );
      err(`local | stopped; log router: ${lines.join('; ')}`);
    };
    if (stopRequested) {
      await stop();
      return EXIT_CODES.ok;
    }

    const { urls } = platform;
    const route = wiring.api?.route.path ?? '';
    out(
      `ready web=${urls.web}/ api=${urls.api}${route}${urls.model ? ` model=${urls.model}` : ''} ` +
        `(${(platform.readyAfterMs / 1000).toFixed(1)} s)`,
    );
    if (settings.demoRps !== undefined) {
      demo = startDemoTraffic(demoRequests(urls), settings.demoRps);
      out(`local | demo traffic: ${settings.demoRps} requests/s`);
    }
    out(
      `local | open ${urls.web}/` +
        // `fault` reaches any service (fault-cli.ts); without a name it means the console's backend.
        (wiring.tasks.some((t) => t.service === DEFAULT_SERVICE)
          ? ` · try: ${CLI_NAME} fault burst`
          : wiring.tasks[0]
            ? ` · try: ${CLI_NAME} fault ${wiring.tasks[0].service} on 0.5`
            : '') +
        (route
          ? ` · curl -H 'content-type: application/json' -d '{"data":[1,2,3,4]}' ${urls.api}${route}`
          : '') +
        ' · Ctrl-C stops',
    );
    for (const job of settings.runNow) {
      out(`local | ${job}: running once now (--now)`);
      void platform.runJob(job).then(
        (run) =>
          out(
            `local | ${job} run ${run.run}: ${run.status} (exit ${run.exitCode ?? 'none'}, ${run.durationMs} ms${
              run.lines ? `, ${run.lines.scored} lines scored, ${run.lines.anomalous} anomalous` : ''
            })`,
          ),
        (error: Error) => err(`local | ${job}: ${error.message}`),
      );
    }
    // Runs until a signal stops it (the handler exits the process).
    return await new Promise<number>(() => {});
  },
};
