import type { LogEvent } from '../../contracts/prediction.ts';
import type { ModelArtifact } from './artifact.ts';

/** Small pure helpers of the model's scoring: calibration, timestamps, level names. */

/** Logistic calibration centred on the training threshold, rounded so equal evidence ties exactly. */
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

/** The artifact's session statistics as sets and maps, for scoring. */
export function buildSessionIndex(sessions: NonNullable<ModelArtifact['sessions']>) {
  return {
    events: new Set(sessions.events),
    transitions: new Set(sessions.transitions),
    countVectors: new Map(sessions.countVectors),
    slots: new Map(sessions.slots.map((id, i) => [id, i] as const)),
  };
}
