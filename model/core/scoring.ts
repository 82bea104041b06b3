import type { LineFeatures } from './line-features.ts';

/**
 * The raw (uncalibrated) scores. Kept apart from the model class so the weighting is one small,
 * documented function per unit, shared by training (threshold fitting) and inference.
 */

/**
 * A line is anomalous when it is both surprising and severe: a new or rare template matters more when
 * the line is an error, and an error that happens all the time is routine. Content surprise (the
 * autoencoder's reconstruction error on the template's words) refines the surprise of new templates,
 * which rarity alone cannot tell apart.
 */
export function rawLineScore(features: LineFeatures, contentSurprise: number): number {
  const severity = features.severity.score;
  const surprise = 0.85 * features.rarity + 0.15 * contentSurprise;
  return surprise * (0.2 + 0.8 * severity);
}

/** What a session shows against the training sessions. */
export interface SessionEvidence {
  /** Events whose template never occurs in a normal training session. */
  readonly novelEvents: number;
  /** Consecutive event pairs (with start and end) never seen in training. */
  readonly novelTransitions: number;
  /** The multiset of events was never seen as a whole. */
  readonly novelCountVector: boolean;
  /** Autoencoder reconstruction error of the count vector, scaled to 0..1. */
  readonly countSurprise: number;
}

/** Session index built from the artifact. */
export interface SessionIndex {
  readonly events: ReadonlySet<number>;
  readonly transitions: ReadonlySet<string>;
  readonly countVectors: ReadonlyMap<string, number>;
  readonly slots: ReadonlyMap<number, number>;
}

/**
 * New events, then new transitions, then a new combination of counts, in decreasing order of
 * certainty; the count autoencoder ranks sessions within each tier.
 */
export function rawSessionScore(e: SessionEvidence): number {
  if (e.novelEvents > 0) return 0.9 + 0.1 * e.countSurprise;
  if (e.novelTransitions > 0) return 0.75 + 0.1 * e.countSurprise;
  if (e.novelCountVector) return 0.5 + 0.2 * e.countSurprise;
  return 0.4 * e.countSurprise;
}

/** The count-vector key of a session: sorted `id:count` pairs. */
export function countKey(ids: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([id, n]) => `${id}:${n}`)
    .join(',');
}

/** Transition keys of a session, `^` and `$` marking its ends. */
export function transitionKeys(ids: readonly number[]): string[] {
  const keys: string[] = [];
  let previous = '^';
  for (const id of ids) {
    const current = String(id);
    keys.push(`${previous}>${current}`);
    previous = current;
  }
  keys.push(`${previous}>$`);
  return keys;
}

/** The autoencoder input of a session: log counts per slotted template, one slot for the rest. */
export function countRow(ids: readonly number[], slots: ReadonlyMap<number, number>): Float64Array {
  const row = new Float64Array(slots.size + 1);
  for (const id of ids) row[slots.get(id) ?? slots.size]! += 1;
  for (let i = 0; i < row.length; i++) row[i] = Math.log1p(row[i]!) / 3;
  return row;
}

/** Evidence for one session of template ids (-1 = no template matched). */
export function sessionEvidence(
  ids: readonly number[],
  index: SessionIndex,
  leaveOneOut: boolean,
  countError: (row: Float64Array) => number,
): SessionEvidence {
  let novelEvents = 0;
  for (const id of ids) if (id < 0 || !index.events.has(id)) novelEvents++;
  let novelTransitions = 0;
  for (const key of transitionKeys(ids)) if (!index.transitions.has(key)) novelTransitions++;
  const seen = (index.countVectors.get(countKey(ids)) ?? 0) - (leaveOneOut ? 1 : 0);
  return {
    novelEvents,
    novelTransitions,
    novelCountVector: seen <= 0,
    countSurprise: countError(countRow(ids, index.slots)),
  };
}
