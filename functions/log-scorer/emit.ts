import { anomalyEmfDocument } from '../../model/client/scoring-output.ts';
import type { ScoringOutcome } from './core.ts';

/**
 * Writes a scored delivery out: one EMF document built by the shared writer (model/client/scoring-output.ts,
 * the one the sidecars use: same namespace, metric names and dimension set) and one JSON line per
 * anomalous log line. Both go to stdout, i.e. to the function's log group, which the platform points
 * at the anomaly log group, where the sidecars' output lands too.
 */
export function emitOutcome(
  outcome: ScoringOutcome,
  writeLine: (line: string) => void,
  now: () => number = Date.now,
): void {
  const document = anomalyEmfDocument({
    service: outcome.service,
    timestamp: now(),
    stats: {
      scored: outcome.scored,
      anomalous: outcome.anomalous,
      maxScore: outcome.maxScore,
      scoreSum: outcome.scoreSum,
      dropped: outcome.rejected.length,
    },
  });
  writeLine(JSON.stringify(document));
  for (const record of outcome.records) writeLine(JSON.stringify(record));
}
