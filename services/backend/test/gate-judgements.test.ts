import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import type { ServiceDeployments } from '../../../contracts/console-ops.ts';
import type { Judgement } from '../../../contracts/judgement.ts';
import { GateJudgements, withJudgements } from '../src/gate-judgements.ts';

/** The deployment view on AWS: the gate's logged decisions, read back and attached to the revisions they judged. */

const logs = mockClient(CloudWatchLogsClient);
beforeEach(() => logs.reset());
const NOW = Date.parse('2026-12-01T12:10:00Z');

const rate = (bad: number, total: number) => ({ bad, total, rate: bad / total, lower: 0, upper: 1 });
function judgement(
  stage: string,
  at: string,
  verdict: Judgement['verdict'],
  newRevision = 'frontend:5',
): Judgement {
  return {
    stage,
    trafficPercent: 10,
    at,
    verdict,
    outcome: verdict === 'FAILED' ? 'worse' : 'waiting',
    rule: 'a rule',
    reason: 'a reason',
    minimumVolume: { lines: 100, requests: 50 },
    probes: { paths: ['/healthz'], sent: 0, answered: 0 },
    revisions: [
      { role: 'new', revision: newRevision, received: 200, anomalies: rate(30, 200), errors: null },
      { role: 'old', revision: 'frontend:4', received: 2000, anomalies: rate(20, 2000), errors: null },
    ],
    comparisons: [],
  };
}
/** A decision line as the gate's Powertools logger writes it. */
const line = (j: Judgement, ecsService = 'acme-frontend') =>
  JSON.stringify({
    level: 'INFO',
    message: 'deployment gate decision',
    service: 'deployment-gate',
    ecsService,
    judgement: j,
  });

describe('GateJudgements', () => {
  it('reads the decisions of one service, keeps the latest per revision and stage, newest first', async () => {
    const early = judgement('POST_TEST_TRAFFIC_SHIFT', '2026-12-01T12:01:00.000Z', 'IN_PROGRESS');
    const later = judgement('POST_TEST_TRAFFIC_SHIFT', '2026-12-01T12:02:00.000Z', 'SUCCEEDED');
    const production = judgement('POST_PRODUCTION_TRAFFIC_SHIFT', '2026-12-01T12:05:00.000Z', 'FAILED');
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [{ message: line(later) }, { message: 'START RequestId: x' }], nextToken: 'n' })
      .resolvesOnce({ events: [{ message: line(early) }, { message: line(production) }] });

    const found = await new GateJudgements({
      logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
      logGroup: 'gate-logs',
      lookbackMinutes: 60,
      now: () => NOW,
    }).of('acme-frontend');

    assert.deepEqual(
      found.map((j) => [j.revisionNumber, j.judgement.stage, j.judgement.verdict]),
      [
        ['5', 'POST_PRODUCTION_TRAFFIC_SHIFT', 'FAILED'],
        ['5', 'POST_TEST_TRAFFIC_SHIFT', 'SUCCEEDED'],
      ],
    );
    const input = logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input;
    assert.equal(input?.logGroupName, 'gate-logs');
    assert.equal(input?.startTime, NOW - 3_600_000);
    assert.equal(
      input?.filterPattern,
      '{ ($.message = "deployment gate decision") && ($.ecsService = "acme-frontend") }',
    );
  });

  it('withJudgements attaches them to the deployment of the judged revision only', () => {
    const deployment = (revision: string) => ({
      id: revision,
      revision,
      status: 'active' as const,
      rolloutState: 'in-progress' as const,
      desired: 2,
      running: 2,
      pending: 0,
      trafficPercent: 50,
      createdAt: '2026-12-01T12:00:00.000Z',
      updatedAt: '2026-12-01T12:00:00.000Z',
      judgements: [],
    });
    const service: ServiceDeployments = {
      service: 'frontend',
      strategy: 'canary',
      progressPercent: 10,
      deployments: [deployment('acme-frontend:5'), deployment('acme-frontend:4')],
      rollbacks: [],
    };
    const j = judgement('POST_TEST_TRAFFIC_SHIFT', '2026-12-01T12:01:00.000Z', 'FAILED');
    const view = withJudgements(service, [{ revisionNumber: '5', judgement: j }]);
    assert.deepEqual(
      view.deployments.map((d) => [d.revision, d.judgements.length]),
      [
        ['acme-frontend:5', 1],
        ['acme-frontend:4', 0],
      ],
    );
  });
});
