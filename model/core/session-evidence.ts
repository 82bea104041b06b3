import type { ModelArtifact } from './artifact.ts';

/**
 * What a session (a block's, request's or task's events, in order) shows against the normal training
 * sessions: the five kinds of evidence of the session model (`session-model.ts`), computed from the
 * artifact's counts, for a new session or — leaving its own contribution out — a training session.
 */

/** The session model as the artifact holds it (`core/artifact.ts`). */
export type SessionModel = NonNullable<ModelArtifact['sessions']>;

/** The kinds of evidence (the rules), in the order reasons list them. */
export const SESSION_RULES = ['events', 'transitions', 'windows', 'length', 'distance'] as const;
export type SessionRule = (typeof SESSION_RULES)[number];

/** Additive smoothing of transition counts in the surprisal. */
const SURPRISAL_SMOOTHING = 0.1;

/** What one session shows against the training sessions. */
export interface SessionEvidence {
  readonly values: Readonly<Record<SessionRule, number>>;
  /**
   * Mean surprisal (nats) of its pairs and of its runs of three under the smoothed training counts,
   * averaged: what orders sessions whose other evidence is equal.
   */
  readonly surprisal: number;
  readonly newEvents: readonly number[];
  readonly newTransitions: readonly string[];
  readonly newWindows: readonly string[];
  readonly length: number;
  readonly nearestLength: number;
  /** The nearest training session by event counts and its distance (not divided by length). */
  readonly nearest: { readonly id: string; readonly distance: number } | undefined;
}

/** Transition keys of a session, `^` and `$` marking its ends. */
export function transitionKeys(ids: readonly number[]): string[] {
  const marked = ['^', ...ids.map(String), '$'];
  const keys: string[] = [];
  for (let i = 1; i < marked.length; i++) keys.push(`${marked[i - 1]}>${marked[i]}`);
  return keys;
}

/** Keys of the session's runs of three events, `^` and `$` marking its ends. */
export function windowKeys(ids: readonly number[]): string[] {
  const marked = ['^', ...ids.map(String), '$'];
  const keys: string[] = [];
  for (let i = 2; i < marked.length; i++) keys.push(`${marked[i - 2]}>${marked[i - 1]}>${marked[i]}`);
  return keys;
}

/** A session's event counts. */
export function countsOf(ids: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** The count-vector key of a session: sorted `id:count` pairs. */
export function countKey(ids: readonly number[]): string {
  return [...countsOf(ids).entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([id, n]) => `${id}:${n}`)
    .join(',');
}

interface CountVector {
  readonly key: string;
  readonly sessions: number;
  readonly id: string;
  readonly counts: ReadonlyMap<number, number>;
  readonly squaredNorm: number;
}

/**
 * The training sessions as lookups. `held` is how many of each count the session being scored
 * contributed itself: 1 when a training session is scored leave-one-out, 0 for a new session.
 */
export class SessionIndex {
  readonly eventSupport: ReadonlyMap<number, number>;
  readonly transitionSupport: ReadonlyMap<string, number>;
  readonly windowSupport: ReadonlyMap<string, number>;
  private readonly pairs: MarkovCounts;
  private readonly runs: MarkovCounts;
  private readonly lengthSupport: ReadonlyMap<number, number>;
  private readonly lengths: readonly number[];
  private readonly vectors: readonly CountVector[];
  private readonly vectorByKey: ReadonlyMap<string, CountVector>;

  constructor(model: Omit<SessionModel, 'components' | 'table' | 'n' | 'admitted'>) {
    this.eventSupport = new Map(model.events);
    this.transitionSupport = new Map(model.transitions.map(([k, sessions]) => [k, sessions] as const));
    this.pairs = markovCounts(model.transitions);
    this.windowSupport = new Map(model.windows.map(([k, sessions]) => [k, sessions] as const));
    this.runs = markovCounts(model.windows);
    this.lengthSupport = new Map(model.lengths);
    this.lengths = model.lengths.map(([l]) => l).sort((a, b) => a - b);
    this.vectors = model.countVectors.map(([key, sessions, id]) => {
      const counts = parseCountKey(key);
      let squaredNorm = 0;
      for (const c of counts.values()) squaredNorm += c * c;
      return { key, sessions, id, counts, squaredNorm };
    });
    this.vectorByKey = new Map(this.vectors.map((v) => [v.key, v] as const));
  }

  evidence(ids: readonly number[], held: 0 | 1): SessionEvidence {
    const newEvents = [...new Set(ids)].filter((id) => (this.eventSupport.get(id) ?? 0) <= held);
    const transitions = transitionKeys(ids);
    const newTransitions = [...new Set(transitions)].filter(
      (k) => (this.transitionSupport.get(k) ?? 0) <= held,
    );
    const newWindows = [...new Set(windowKeys(ids))].filter((k) => (this.windowSupport.get(k) ?? 0) <= held);
    const nearestLength = this.nearestLength(ids.length, held);
    const nearest = this.nearestVector(ids, held);
    return {
      values: {
        events: newEvents.length,
        transitions: newTransitions.length,
        windows: newWindows.length,
        length: Math.abs(Math.log((ids.length + 1) / (nearestLength + 1))),
        distance: nearest ? nearest.distance / Math.max(1, ids.length) : 0,
      },
      surprisal:
        (surprisal(this.pairs, transitions, held, this.eventSupport.size + 1) +
          surprisal(this.runs, windowKeys(ids), held, this.eventSupport.size + 1)) /
        2,
      newEvents,
      newTransitions,
      newWindows,
      length: ids.length,
      nearestLength,
      nearest,
    };
  }

  private nearestLength(length: number, held: 0 | 1): number {
    if ((this.lengthSupport.get(length) ?? 0) > held) return length;
    let best = Number.NaN;
    for (const l of this.lengths) {
      if (l === length) continue;
      if (Number.isNaN(best) || Math.abs(l - length) < Math.abs(best - length)) best = l;
    }
    return Number.isNaN(best) ? length : best;
  }

  private nearestVector(ids: readonly number[], held: 0 | 1): SessionEvidence['nearest'] {
    const key = countKey(ids);
    const same = this.vectorByKey.get(key);
    if (same && same.sessions > held) return { id: same.id, distance: 0 };
    const counts = countsOf(ids);
    let norm = 0;
    for (const c of counts.values()) norm += c * c;
    let best: CountVector | undefined;
    let bestSquared = Number.POSITIVE_INFINITY;
    for (const v of this.vectors) {
      if (v.key === key) continue;
      let dot = 0;
      for (const [id, c] of counts) dot += c * (v.counts.get(id) ?? 0);
      const squared = norm + v.squaredNorm - 2 * dot;
      if (squared < bestSquared) {
        bestSquared = squared;
        best = v;
      }
    }
    return best ? { id: best.id, distance: Math.sqrt(Math.max(0, bestSquared)) } : undefined;
  }
}

/** Occurrences of each `…>x` key and of each prefix `…` before it: a Markov model's counts. */
interface MarkovCounts {
  readonly occurrences: ReadonlyMap<string, number>;
  readonly prefixTotals: ReadonlyMap<string, number>;
}

function markovCounts(entries: readonly (readonly [string, number, number])[]): MarkovCounts {
  const prefixTotals = new Map<string, number>();
  for (const [key, , occurrences] of entries) {
    const prefix = key.slice(0, key.lastIndexOf('>'));
    prefixTotals.set(prefix, (prefixTotals.get(prefix) ?? 0) + occurrences);
  }
  return { occurrences: new Map(entries.map(([k, , o]) => [k, o] as const)), prefixTotals };
}

/**
 * Mean surprisal (nats) of a session's keys (pairs or runs of three) under the smoothed training
 * counts, without the session's own contribution when it is a training session (`held`).
 */
function surprisal(counts: MarkovCounts, keys: readonly string[], held: 0 | 1, vocabulary: number): number {
  const own = new Map<string, number>();
  const ownPrefix = new Map<string, number>();
  if (held) {
    for (const k of keys) {
      own.set(k, (own.get(k) ?? 0) + 1);
      const prefix = k.slice(0, k.lastIndexOf('>'));
      ownPrefix.set(prefix, (ownPrefix.get(prefix) ?? 0) + 1);
    }
  }
  let sum = 0;
  for (const k of keys) {
    const prefix = k.slice(0, k.lastIndexOf('>'));
    const count = (counts.occurrences.get(k) ?? 0) - (own.get(k) ?? 0);
    const total = (counts.prefixTotals.get(prefix) ?? 0) - (ownPrefix.get(prefix) ?? 0);
    sum -= Math.log((count + SURPRISAL_SMOOTHING) / (Math.max(0, total) + SURPRISAL_SMOOTHING * vocabulary));
  }
  return keys.length === 0 ? 0 : sum / keys.length;
}

function parseCountKey(key: string): Map<number, number> {
  const counts = new Map<number, number>();
  if (key === '') return counts;
  for (const pair of key.split(',')) {
    const colon = pair.lastIndexOf(':');
    counts.set(Number(pair.slice(0, colon)), Number(pair.slice(colon + 1)));
  }
  return counts;
}
