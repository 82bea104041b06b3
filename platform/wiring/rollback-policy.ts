import type { RollbackPolicyWiring } from './types.ts';

/**
 * When a deployment may be rolled back, one value each, read by the AWS deployment alarms, the
 * deployment gate's environment and the local rehearsal.
 *
 * - `minimumVolume`: 50 scored lines, 20 requests of the new revision. It is what a one-minute alarm
 *   period can hold for a small service, and enough for the gate's confidence bounds: fewer events leave
 *   them too wide to fail anything but a collapse, and an outsider's handful of requests can never decide
 *   (at 20 lines one anomalous line was 5 %). For the alarms, with the calibrated threshold flagging about
 *   1 % of normal lines, a healthy revision shows 5 % of 50 lines in one period with a probability of
 *   1.4 % (binomial tail), in two consecutive periods about 0.02 %.
 * - `evaluationPeriods` × `periodSeconds`: two consecutive one-minute periods, so one noisy minute
 *   does not roll back a release.
 * - `gateDeadlineSeconds`: ten minutes for one stage: two sidecar EMF intervals and the ALB's one-minute
 *   metrics have long arrived, and probes have time to make up an idle release's volume.
 * - `gateStages`: after the test and after the production traffic shift, the stages at which a
 *   traffic-shifting deployment's new revision has traffic to be judged on.
 */
export const ROLLBACK_POLICY: RollbackPolicyWiring = {
  minimumVolume: { lines: 50, requests: 20 },
  evaluationPeriods: 2,
  periodSeconds: 60,
  gateDeadlineSeconds: 600,
  gateStages: ['POST_TEST_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT'],
};
