import type { RollbackPolicyWiring } from './types.ts';

/**
 * When a deployment may be rolled back, one value each, read by the AWS deployment alarms, the
 * deployment gate's configuration and the local rehearsal.
 *
 * - `minimumVolume`: 100 scored lines, 50 requests. At the default 5 % rollback thresholds a healthy
 *   revision (the calibrated threshold flags about 1 % of normal lines; about 0.1 % of requests fail)
 *   breaches by chance with a probability of 0.3 % at 100 lines and 0.002 % at 50 requests (binomial
 *   tails), against 18 % and 2 % at 20 lines and 10 requests, where one line or one failed request
 *   decided; so an outsider's handful of bad requests cannot roll a release back. A revision with 10 %
 *   anomalous lines is still caught at 100 lines 98 % of the time, and a service needs only 100 lines
 *   in a minute to be judged at all, where 200 would leave quieter services unjudged.
 * - `evaluationPeriods` × `periodSeconds`: two consecutive one-minute periods, so one noisy minute
 *   does not roll back a release (the rehearsal counts the minutes as seconds).
 * - `gateStages`: after the test and after the production traffic shift, the stages at which a
 *   traffic-shifting deployment's new revision has traffic to be judged on.
 */
export const ROLLBACK_POLICY: RollbackPolicyWiring = {
  minimumVolume: { lines: 100, requests: 50 },
  evaluationPeriods: 2,
  periodSeconds: 60,
  gateStages: ['POST_TEST_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT'],
};
