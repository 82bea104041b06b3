import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ANOMALY_DIMENSIONS, ANOMALY_METRICS } from '../../contracts/anomaly.ts';
import type { ScoringOutcome } from './core.ts';

/**
 * Writes a scored delivery out: one EMF document in the shared anomaly namespace (dimension
 * `Service` only, which is what the backend, the dashboard and the alarms query) and one JSON line per
 * anomalous log line. Both go to stdout, i.e. to the function's log group, which the platform points
 * at the anomaly log group, where the sidecars' output lands too.
 *
 * `metrics` must have had its default dimensions cleared: Powertools adds a `service` dimension by
 * default, which would file these metrics under a different dimension set than the sidecars'.
 */
export function emitOutcome(
  outcome: ScoringOutcome,
  metrics: Metrics,
  writeLine: (line: string) => void,
): void {
  metrics.addDimension(ANOMALY_DIMENSIONS.service, outcome.service);
  metrics.addMetric(ANOMALY_METRICS.linesScored, MetricUnit.Count, outcome.scored);
  metrics.addMetric(ANOMALY_METRICS.anomalousLines, MetricUnit.Count, outcome.anomalous);
  metrics.addMetric(ANOMALY_METRICS.recordsDropped, MetricUnit.Count, outcome.rejected.length);
  if (outcome.scored > 0) {
    metrics.addMetric(ANOMALY_METRICS.maxScore, MetricUnit.NoUnit, outcome.maxScore);
    metrics.addMetric(ANOMALY_METRICS.meanScore, MetricUnit.NoUnit, outcome.meanScore);
  }
  metrics.publishStoredMetrics();
  for (const record of outcome.records) writeLine(JSON.stringify(record));
}
