import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthDeclarationOrExit } from '../declaration.ts';
import { demoRequests, parseDemoTrafficFlag, startDemoTraffic } from './demo-traffic.ts';
import { StartError, startPlatform } from './platform.ts';
import { PortInUseError, parsePortVariable } from './ports.ts';
import { prepareFrontendAssets } from './prepare.ts';
import { killGroup } from './supervisor.ts';

/**
 * `npm start`: runs this repository's declared platform on loopback. See platform/local/README.md.
 *
 * Exit codes: 0 after a clean stop, 1 when a part never became healthy or failed to start, 2 for a
 * usage error, a port that is taken, or a bad declaration (its message alone on stderr).
 */

const USAGE = `usage: npm start [-- --demo-traffic[=RPS]]

environment:
  WEB_PORT=8080          local ALB (the console)             0 picks a free port
  API_PORT=8081          local API Gateway (POST /predict)   0 picks a free port
  MODEL_PORT=8082        SageMaker-runtime-compatible model endpoint
  LOCAL_API_KEY          require this x-api-key on the API (default: none)
  READY_TIMEOUT_SECONDS  give up if a health check has not passed by then (default 60)
  LOCAL_STATE_FILE       where pids and URLs are written (default .local/runtime.json)
  PLATFORM_DECLARATION   another declaration module to run (default config/declaration.ts)`;

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const unknown = args.filter((a) => a !== '--demo-traffic' && !a.startsWith('--demo-traffic='));
  let demoRps: number | undefined;
  let ports: { web: number; api: number; model: number };
  let readyTimeoutMs: number;
  try {
    if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}`);
    demoRps = parseDemoTrafficFlag(args);
    ports = {
      web: parsePortVariable('WEB_PORT', process.env.WEB_PORT, 8080),
      api: parsePortVariable('API_PORT', process.env.API_PORT, 8081),
      model: parsePortVariable('MODEL_PORT', process.env.MODEL_PORT, 8082),
    };
    const timeout = process.env.READY_TIMEOUT_SECONDS ?? '60';
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1) {
      throw new Error(`READY_TIMEOUT_SECONDS must be a whole number of seconds ≥ 1; got '${timeout}'`);
    }
    readyTimeoutMs = Number(timeout) * 1000;
  } catch (error) {
    console.error(`npm start: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const manifest = await synthDeclarationOrExit();
  const secretNames = manifest.services.flatMap((s) => Object.keys(s.secrets));
  const secretValues = Object.fromEntries(
    secretNames.flatMap((k) => (process.env[k] !== undefined ? [[k, process.env[k]!]] : [])),
  );

  // Signals during start-up abort it; afterwards they stop the running platform.
  let stopRequested = false;
  const startup = new AbortController();
  let stop: (() => Promise<void>) | undefined;
  let running: Awaited<ReturnType<typeof startPlatform>> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      // A second Ctrl-C: do not wait for stop timeouts.
      console.error(`local | ${signal} again: killing every process group now`);
      for (const p of running?.state().processes ?? [])
        for (const g of p.processGroups) killGroup(g, 'SIGKILL');
      process.exit(130);
    }
    stopRequested = true;
    startup.abort();
    console.error(`local | ${signal}: stopping (again to kill at once)`);
    void stop?.().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let platform: Awaited<ReturnType<typeof startPlatform>>;
  try {
    platform = await startPlatform({
      manifest,
      root,
      webPort: ports.web,
      apiPort: ports.api,
      modelPort: ports.model,
      readyTimeoutMs,
      secretValues,
      signal: startup.signal,
      stateFile: resolve(root, process.env.LOCAL_STATE_FILE ?? '.local/runtime.json'),
      prepare: (print) => prepareFrontendAssets(root, print),
      ...(process.env.LOCAL_API_KEY ? { apiKey: process.env.LOCAL_API_KEY } : {}),
    });
  } catch (error) {
    if (stopRequested) {
      console.error('npm start: interrupted during start-up; everything started was stopped');
      return 130;
    }
    if (error instanceof PortInUseError) {
      console.error(`npm start: ${error.message}`);
      return 2;
    }
    if (error instanceof StartError) {
      console.error(`npm start: ${error.message}`);
      return 1;
    }
    console.error(`npm start: could not start: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
  running = platform;
  stop = async () => {
    demo?.stop();
    await platform.stop();
    const stats = platform.forwarderStats();
    const lines = Object.entries(stats).map(
      ([label, s]) => `${label}: ${s.forwarded} forwarded, ${s.dropped} dropped, ${s.rejected} rejected`,
    );
    console.error(`local | stopped; log router: ${lines.join('; ')}`);
  };
  let demo: ReturnType<typeof startDemoTraffic> | undefined;
  if (stopRequested) {
    await stop();
    return 0;
  }

  const { urls } = platform;
  console.log(
    `ready web=${urls.web}/ api=${urls.api}/predict${urls.model ? ` model=${urls.model}` : ''} ` +
      `(${(platform.readyAfterMs / 1000).toFixed(1)} s)`,
  );
  if (demoRps !== undefined) {
    demo = startDemoTraffic(demoRequests(urls), demoRps);
    console.log(`local | demo traffic: ${demoRps} requests/s`);
  }
  console.log(
    `local | open ${urls.web}/ · try: npm run fault -- burst · curl -H 'content-type: application/json' ` +
      `-d '{"data":[1,2,3,4]}' ${urls.api}/predict · Ctrl-C stops`,
  );
  return await new Promise<number>(() => {});
}

process.exit(await main());
