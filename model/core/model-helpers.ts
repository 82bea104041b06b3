import { MAX_BUDGET } from '../../contracts/alert-budget.ts';
import type { LogEvent } from '../../contracts/prediction.ts';
import type { ModelArtifact } from './artifact.ts';
import { pValue } from './conformal.ts';

/** Small pure helpers of the model's scoring: calibration, timestamps, level names. */

/**
 * A line's p-value: the conformal p-value of its raw score among the training lines' leave-one-out
 * scores, and, under the drift floor, above every budget anyone may declare (falling from 1 at raw 0
 * to twice the largest budget just under the floor), so those lines rank but never alarm.
 */
export function linePValue(lines: ModelArtifact['lines'], raw: number): number {
  const p = pValue(lines.table, raw);
  if (raw >= lines.floor || lines.floor <= 0) return p;
  const below = 1 - Math.max(0, raw) / lines.floor;
  return Math.max(p, 2 * MAX_BUDGET + (1 - 2 * MAX_BUDGET) * below);
}

/**
 * Logistic calibration of heuristic evidence (a parameter shift, a window burst or mix, the seed
 * vector) centred on its own threshold, rounded so equal evidence ties exactly. Its 0.5 is the score
 * of p = 0.001 on the budget scale (`alert-budget.ts`); it carries no conformal guarantee.
 */
export function calibrate(raw: number, calibration: { rawThreshold: number; spread: number }): number {
  const score = 1 / (1 + Math.exp(-(raw - calibration.rawThreshold) / calibration.spread));
  return Math.round(score * 1e6) / 1e6;
}

export const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Epoch milliseconds of a contract timestamp (numbers below 1e11 are seconds, as in the seed). */
export function eventMillis(timestamp: LogEvent['timestamp']): number | undefined {
  const t =
    typeof timestamp === 'number'
      ? Math.abs(timestamp) < 1e11
        ? timestamp * 1000
        : timestamp
      : Date.parse(timestamp);
  return Number.isFinite(t) ? t : undefined;
}

export function levelName(level: number): string {
  return level >= 1 ? 'FATAL' : level >= 0.9 ? 'CRITICAL' : level >= 0.7 ? 'ERROR' : 'WARN';
}
