import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalDeploymentsState } from '../../../contracts/console-ops.ts';
import { runScript, type SpawnedPlatform, spawnPlatform } from '../../../test/support/platform.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { demoRequests, startDemoTraffic } from '../demo-traffic.ts';
import { abortReplay, failedBySwitch, slowAnswers } from '../replays.ts';

/**
 * `npm run bench:deployments`: the figures of issue 24, on the platform `npm start` runs, under steady
 * demo traffic (the console's page, its API and a prediction, DEMO_RPS a second through the local ALB
 * and API Gateway):
 * - a bad backend release (FAULT_ERROR_RATE=0.5): its first bad line (the earliest anomalous line or
 *   5xx answer, whose error lines the model scores anomalous) to the rollback decision (goal ≤ 30 s),
 *   decision to all traffic on the old revision, requests the switch failed (goal 0);
 * - a good frontend canary: start to completed, requests the switch failed (goal 0);
 * - the attack replays and their outcomes: 128 aborted uploads in 1.5 s during a good canary, the
 *   dilution replay (FAULT_ERROR_RATE=0.3 under 80 requests/s of a healthy route);
 * and on an idle platform (no traffic): a bad release, start to rollback (goal ≤ 60 s), and whether a
 * good one completes. Medians of RUNS (default 3); the last line printed is one JSON object.
 */

const RUNS = Number(process.env.RUNS ?? 3);
const DEMO_RPS = Number(process.env.DEMO_RPS ?? 4);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface Deployed {
  readonly code: number;
  readonly ms: number;
  readonly lines: string[];
  /** The runtime's id of the deployment (`local-N`, numbered from 1 per run of the platform). */
  readonly id: string;
}

/** Deployments asked of each running platform so far. */
const deployed = new Map<SpawnedPlatform, number>();

/** `npm run deploy -- --local …` as a person runs it. */
async function deploy(launched: SpawnedPlatform, args: string[]): Promise<Deployed> {
  const id = `local-${(deployed.get(launched) ?? 0) + 1}`;
  deployed.set(launched, (deployed.get(launched) ?? 0) + 1);
  const run = await runScript('deploy', ['--local', ...args], {
    env: { LOCAL_STATE_FILE: launched.stateFile },
    timeoutMs: 150_000,
  });
  return { code: run.code ?? 1, ms: run.ms, lines: `${run.stdout}\n${run.stderr}`.split('\n'), id };
}

/** Resolves once `service`'s running deployment gives its new revision `percent` of the traffic. */
function atTraffic(launched: SpawnedPlatform, service: string, percent: number): Promise<boolean> {
  return waitFor(`${service} at ${percent} %`, 120_000, () => {
    const state = JSON.parse(
      readFileSync(join(launched.stateDir, 'deployments.json'), 'utf8'),
    ) as LocalDeploymentsState;
    return state.services.some(
      (s) =>
        s.service === service &&
        s.deployments[0]?.rolloutState === 'in-progress' &&
        s.deployments[0].trafficPercent === percent,
    );
  });
}

const outcome = (code: number) => (code === 0 ? 'completed' : 'rolled back');

async function underTraffic(): Promise<Record<string, unknown>> {
  const launched = await spawnPlatform();
  const traffic = startDemoTraffic(demoRequests(launched.urls), DEMO_RPS);
  const bad: { firstToDecisionMs: number; decisionToTrafficBackMs: number }[] = [];
  const good: number[] = [];
  const replays: Record<string, string[]> = { aborts: [], dilution: [] };
  let switchFailures = 0;
  let slow = 0;
  try {
    for (let i = 0; i < RUNS; i++) {
      const before = { failed: failedBySwitch(traffic.stats), slow: slowAnswers(traffic.stats) };
      const canary = await deploy(launched, ['--service', 'frontend']);
      if (canary.code !== 0) throw new Error(`the good canary did not complete:\n${canary.lines.join('\n')}`);
      good.push(canary.ms);

      const release = await deploy(launched, ['--service', 'backend', '--env', 'FAULT_ERROR_RATE=0.5']);
      if (release.code !== 1)
        throw new Error(`the bad release was not rolled back:\n${release.lines.join('\n')}`);
      const times = await decisionTimes(launched, release);
      bad.push({
        firstToDecisionMs: times.decidedAt - times.firstBadAt,
        decisionToTrafficBackMs: times.trafficBackAt - times.decidedAt,
      });
      switchFailures += failedBySwitch(traffic.stats) - before.failed;
      slow += slowAnswers(traffic.stats) - before.slow;

      const attack = deploy(launched, ['--service', 'frontend']);
      await atTraffic(launched, 'frontend', 10);
      const made = await abortReplay(`${launched.urls.web}/api/predict`, 128, 1500);
      const attacked = await attack;
      replays.aborts!.push(`${made} aborted uploads during a good canary → ${outcome(attacked.code)}`);

      const flood = startDemoTraffic([{ method: 'GET', url: `${launched.urls.web}/api/faults` }], 80);
      const diluted = await deploy(launched, ['--service', 'backend', '--env', 'FAULT_ERROR_RATE=0.3']);
      flood.stop();
      replays.dilution!.push(
        `30 % fault under ${flood.stats.sent} requests at 80/s of a healthy route → ${outcome(diluted.code)}: ${diluted.lines.find((l) => l.includes('ROLLING BACK'))?.replace(/^.*ROLLING BACK /, '') ?? ''}`,
      );
      console.error(
        `run ${i + 1}: canary ${canary.ms} ms; bad release first bad line → decision ${bad.at(-1)!.firstToDecisionMs} ms`,
      );
    }
  } finally {
    traffic.stop();
    await launched.stop();
  }
  return {
    demoRps: DEMO_RPS,
    badReleaseFirstBadLineToDecisionMsMedian: median(bad.map((b) => b.firstToDecisionMs)),
    badReleaseFirstBadLineToDecisionMs: bad.map((b) => b.firstToDecisionMs),
    goalFirstBadLineToDecisionMs: 30_000,
    decisionToAllTrafficOnOldMsMedian: median(bad.map((b) => b.decisionToTrafficBackMs)),
    goodCanaryStartToCompletedMsMedian: median(good),
    goodCanaryStartToCompletedMs: good,
    requestsFailedBySwitch: switchFailures,
    goalRequestsFailedBySwitch: 0,
    requestsTooSlow: slow,
    demoRequests: traffic.stats.sent,
    replays,
  };
}

/** The rollback's decision and traffic-back times, from the runtime's control endpoint. */
async function decisionTimes(
  launched: SpawnedPlatform,
  release: Deployed,
): Promise<{ decidedAt: number; trafficBackAt: number; firstBadAt: number }> {
  const state = JSON.parse(readFileSync(launched.stateFile, 'utf8')) as {
    control: { url: string; token: string };
  };
  const response = await fetch(`${state.control.url}/deployments/${release.id}`, {
    headers: { authorization: `Bearer ${state.control.token}` },
  });
  const body = (await response.json()) as {
    outcome: { decidedAt?: number; trafficBackAt?: number; firstBadAt?: number } | null;
  };
  const { decidedAt, trafficBackAt, firstBadAt } = body.outcome ?? {};
  if (decidedAt === undefined || trafficBackAt === undefined || firstBadAt === undefined) {
    throw new Error(`no decision times for ${release.id}:\n${release.lines.join('\n')}`);
  }
  return { decidedAt, trafficBackAt, firstBadAt };
}

async function idle(): Promise<Record<string, unknown>> {
  const launched = await spawnPlatform();
  const bad: number[] = [];
  const good: string[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const release = await deploy(launched, ['--service', 'backend', '--env', 'FAULT_ERROR_RATE=0.5']);
      if (release.code !== 1)
        throw new Error(`the idle bad release was not rolled back:\n${release.lines.join('\n')}`);
      bad.push(release.ms);
      const fine = await deploy(launched, ['--service', 'backend']);
      good.push(outcome(fine.code));
      console.error(
        `idle run ${i + 1}: bad release start → rollback ${release.ms} ms; good release ${good.at(-1)}`,
      );
    }
  } finally {
    await launched.stop();
  }
  return {
    idleBadReleaseStartToRollbackMsMedian: median(bad),
    idleBadReleaseStartToRollbackMs: bad,
    goalIdleBadReleaseStartToRollbackMs: 60_000,
    idleGoodRelease: good,
  };
}

async function main(): Promise<void> {
  const traffic = await underTraffic();
  const quiet = await idle();
  console.log(JSON.stringify({ bench: 'deployments', runs: RUNS, ...traffic, ...quiet }));
}

await main();
