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
  /** Euclidean distance of the event counts to the closest training session's (0 when seen). */
  readonly countDistance: number;
  /** Share of the session's transitions (with start and end) never seen: STIDE's mismatch rate. */
  readonly transitionShare: number;
}

/** Session index built from the artifact. */
export interface SessionIndex {
  readonly events: ReadonlySet<number>;
  readonly transitions: ReadonlySet<string>;
  readonly countVectors: ReadonlyMap<string, number>;
  readonly slots: ReadonlyMap<number, number>;
}

/**
 * Novelty rules trusted as they stand: a kind of novelty (a never-seen event, a never-seen
 * transition) is a rule when training shows it is rare among normal sessions (`core/train.ts`,
 * {@link RULE_LEVEL}). A session holding trusted novelty is anomalous whatever its other evidence.
 */
export interface SessionRules {
  readonly events: boolean;
  readonly transitions: boolean;
}

/** Raw score of a session that a trusted novelty rule flags: above any score that evidence can give. */
export const RULE_RAW = 3;

/**
 * A session's raw score: trusted novelty first ({@link RULE_RAW} and up); then untrusted new events (2
 * and up), untrusted new transitions (1 and up) and nothing new (0 and up), each tier ranked by how
 * far the session's event counts lie from every training session's (`d / (1 + d)`, below 1). Outside
 * the rule tier only leave-one-out-honest evidence enters, so the conformal threshold holds.
 */
export function rawSessionScore(e: SessionEvidence, rules: SessionRules = NO_RULES): number {
  const far = e.countDistance / (1 + e.countDistance);
  if ((rules.events && e.novelEvents > 0) || (rules.transitions && e.novelTransitions > 0)) {
    // Ranked within the rule tier by the count autoencoder too: it decides nothing here, so its
    // in-sample training errors cannot bias a threshold.
    return RULE_RAW + 0.8 * far + 0.2 * e.countSurprise;
  }
  return (e.novelEvents > 0 ? 2 : e.novelTransitions > 0 ? 1 : 0) + far;
}

const NO_RULES: SessionRules = { events: false, transitions: false };

/** The count-vector key of a session: sorted `id:count` pairs. */
export function countKey(ids: readonly number[]): string {
  return [...countsOf(ids).entries()]
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

/**
 * How many training sessions hold each event and transition: leave-one-out scoring of a training
 * session treats what only that session holds as never seen, as it will be for the next new session.
 */
export interface SessionSupport {
  readonly events: ReadonlyMap<number, number>;
  readonly transitions: ReadonlyMap<string, number>;
}

/** {@link SessionSupport} of training sessions of template ids. */
export function sessionSupport(sessions: readonly (readonly number[])[]): SessionSupport {
  const events = new Map<number, number>();
  const transitions = new Map<string, number>();
  for (const ids of sessions) {
    for (const id of new Set(ids)) events.set(id, (events.get(id) ?? 0) + 1);
    for (const key of new Set(transitionKeys(ids))) transitions.set(key, (transitions.get(key) ?? 0) + 1);
  }
  return { events, transitions };
}

/**
 * Evidence for one session of template ids (-1 = no template matched). With `support`, the session
 * is a training session scored leave-one-out: events, transitions and its count vector that no other
 * training session holds count as new.
 */
export function sessionEvidence(
  ids: readonly number[],
  index: SessionIndex,
  leaveOneOut: boolean,
  countError: (row: Float64Array) => number,
  support?: SessionSupport,
): SessionEvidence {
  const held = leaveOneOut && support ? 1 : 0;
  let novelEvents = 0;
  for (const id of ids) {
    if (id < 0 || !index.events.has(id) || (support && (support.events.get(id) ?? 0) <= held)) novelEvents++;
  }
  let novelTransitions = 0;
  const keys = transitionKeys(ids);
  for (const key of keys) {
    if (!index.transitions.has(key) || (support && (support.transitions.get(key) ?? 0) <= held))
      novelTransitions++;
  }
  const key = countKey(ids);
  const seen = (index.countVectors.get(key) ?? 0) - (leaveOneOut ? 1 : 0);
  return {
    novelEvents,
    novelTransitions,
    novelCountVector: seen <= 0,
    countSurprise: countError(countRow(ids, index.slots)),
    transitionShare: novelTransitions / keys.length,
    countDistance: seen > 0 ? 0 : nearestCountDistance(countsOf(ids), index, leaveOneOut ? key : undefined),
  };
}

/** A session's event counts. */
export function countsOf(ids: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** Sparse count vectors of the training sessions' distinct count keys, parsed once per index. */
const vectorCache = new WeakMap<SessionIndex, { key: string; counts: Map<number, number> }[]>();

/** Distance to the closest training count vector, leaving out the one with key `skip`. */
function nearestCountDistance(
  counts: ReadonlyMap<number, number>,
  index: SessionIndex,
  skip?: string,
): number {
  let vectors = vectorCache.get(index);
  if (!vectors) {
    vectors = [...index.countVectors.keys()].map((key) => ({
      key,
      counts: new Map(
        key === ''
          ? []
          : key.split(',').map((pair) => {
              const colon = pair.lastIndexOf(':');
              return [Number(pair.slice(0, colon)), Number(pair.slice(colon + 1))] as const;
            }),
      ),
    }));
    vectorCache.set(index, vectors);
  }
  let best = Number.POSITIVE_INFINITY;
  for (const v of vectors) {
    if (v.key === skip) continue;
    let d = 0;
    for (const [id, n] of counts) d += (n - (v.counts.get(id) ?? 0)) ** 2;
    for (const [id, n] of v.counts) if (!counts.has(id)) d += n * n;
    if (d < best) best = d;
  }
  return Number.isFinite(best) ? Math.sqrt(best) : 0;
}
