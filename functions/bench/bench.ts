import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInferenceServer } from '../../model/serve/index.ts';
import { startFakeAws } from '../../test/support/fake-aws-server.ts';
import { bundleFunction, FUNCTION_NAMES, type FunctionName } from '../build.ts';

/**
 * `npm run bench:functions`: for each function, the esbuild bundle's size (goal ≤ 300 KB) and its cold
 * start (goal ≤ 150 ms): a fresh Node process loads the module and serves one real fixture event
 * against local endpoints, the bundle next to the same handler run unbundled through tsx. Medians of
 * RUNS processes each. Endpoints: the model engineer's inference server (the SageMaker contract) for
 * predict and log-scorer; test/support/fake-aws-server.ts for remediate's ECS, DynamoDB and SNS calls.
 * The last line printed is one JSON object.
 */

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SIZE_GOAL_BYTES = 300 * 1024;
const COLD_GOAL_MS = 150;
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const runner = join(here, 'cold-start-runner.mjs');

const EVENTS: Record<FunctionName, string> = {
  predict: 'predict/events/logs.json',
  'log-scorer': 'log-scorer/events/data-message.json',
  remediate: 'remediate/events/service-cpu-alarm.json',
  // The production stage: without a test route the test stage answers without an AWS call.
  'deployment-gate': 'deployment-gate/events/post-production-traffic-shift.json',
};

interface RunResult {
  readonly loadMs: number;
  readonly firstEventMs: number;
  readonly coldMs: number;
  readonly result: unknown;
}

function runOnce(module: string, event: string, env: NodeJS.ProcessEnv, viaTsx: boolean): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const args = [...(viaTsx ? ['--import', 'tsx'] : []), runner, module, event];
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{"loadMs"')) {
        reject(new Error(`${module} exited ${code}: ${err.slice(0, 500)}`));
        return;
      }
      resolvePromise(JSON.parse(last) as RunResult);
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const model = await startInferenceServer({ port: 0 });
  const aws = await startFakeAws();
  const awsUrl = aws.url;
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const envs: Record<FunctionName, NodeJS.ProcessEnv> = {
    predict: { ...baseEnv, MODEL_ENDPOINT_NAME: 'log-anomaly', MODEL_ENDPOINT_URL: model.url },
    'log-scorer': {
      ...baseEnv,
      MODEL_ENDPOINT_NAME: 'log-anomaly',
      MODEL_ENDPOINT_URL: model.url,
      DEFAULT_SERVICE: 'instances',
    },
    remediate: {
      ...baseEnv,
      AWS_ENDPOINT_URL: awsUrl,
      CLUSTER_NAME: 'acme-cluster',
      TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:acme-ops',
      LEDGER_TABLE_NAME: 'acme-ledger',
      REMEDIATION_RULES: JSON.stringify([
        {
          alarmName: 'acme-backend-cpu-high',
          action: 'scale-out',
          service: { name: 'backend', serviceName: 'acme-backend', maxTasks: 6 },
        },
      ]),
      DRY_RUN: 'false',
      COOLDOWN_SECONDS: '600',
      MAX_ACTIONS_PER_WINDOW: '6',
    },
    // Against the fake endpoint the ECS call fails: the gate answers IN_PROGRESS, one full invocation.
    'deployment-gate': {
      ...baseEnv,
      AWS_ENDPOINT_URL: awsUrl,
      LOAD_BALANCER_FULL_NAME: 'app/acme/0123456789abcdef',
      ANOMALY_LOG_GROUP: 'acme-anomalies',
      MIN_SCORED_LINES: '100',
      MIN_REQUESTS: '50',
      DEADLINE_SECONDS: '600',
      SERVICE_SETTINGS: JSON.stringify({
        frontend: { probes: ['/healthz', '/'], onScorerOutage: 'judge-on-errors' },
      }),
    },
  };

  const report: Record<string, unknown> = {};
  try {
    for (const name of FUNCTION_NAMES) {
      const bundle = await bundleFunction(name, join(root, '.local', 'functions', name));
      const event = join(here, '..', EVENTS[name]);
      const bundled: RunResult[] = [];
      const unbundled: RunResult[] = [];
      // Interleaved, so machine noise hits both variants alike.
      for (let i = 0; i < RUNS; i++) {
        bundled.push(await runOnce(bundle.file, event, envs[name], false));
        unbundled.push(await runOnce(join(here, '..', name, 'handler.ts'), event, envs[name], true));
      }
      const coldBundled = median(bundled.map((r) => r.coldMs));
      const coldUnbundled = median(unbundled.map((r) => r.coldMs));
      const entry = {
        bundleKB: round(bundle.bytes / 1024),
        bundleGoalKB: SIZE_GOAL_BYTES / 1024,
        bundleWithinGoal: bundle.bytes <= SIZE_GOAL_BYTES,
        largestPackagesKB: Object.fromEntries(
          Object.entries(bundle.byPackage)
            .slice(0, 4)
            .map(([k, v]) => [k, round(v / 1024)]),
        ),
        coldMsMedian: round(coldBundled),
        loadMsMedian: round(median(bundled.map((r) => r.loadMs))),
        firstEventMsMedian: round(median(bundled.map((r) => r.firstEventMs))),
        coldGoalMs: COLD_GOAL_MS,
        coldWithinGoal: coldBundled <= COLD_GOAL_MS,
        unbundledTsxColdMsMedian: round(coldUnbundled),
        speedupVsUnbundled: round(coldUnbundled / coldBundled),
        result: bundled[0]!.result,
      };
      console.log(`${name}: ${JSON.stringify(entry)}`);
      report[name] = entry;
    }
  } finally {
    await model.close();
    await aws.close();
  }
  console.log(JSON.stringify({ bench: 'functions', runs: RUNS, node: process.version, functions: report }));
}

await main();
