import type { ModelArtifact } from './artifact.ts';
import { type ConformalTable, conformalTable, pValue } from './conformal.ts';

/**
 * The session model: what a session (a block's, request's or task's events, in order) shows against
 * the normal training sessions, and how rare that is among them.
 *
 * Five kinds of evidence, each a number that is 0 for a session like the training ones:
 * - `events`: distinct events no training session holds (DeepLog's and every detector's first sign);
 * - `transitions`: distinct pairs of consecutive events never seen, start and end marked (STIDE, window 2);
 * - `windows`: distinct runs of three events never seen (STIDE, window 3): order a pair cannot see;
 * - `length`: how far the session's length lies from the nearest training length, |ln((l + 1)/(l' + 1))|;
 * - `distance`: the Euclidean distance of its event counts to the nearest training session's, divided
 *   by its length (a count vector seen in training is at 0).
 *
 * Each is scored leave-one-out on the training sessions (a training session's own events, pairs,
 * length and counts do not count as seen for it), which gives each kind a conformal p-value `p_k` —
 * how often a new normal session shows that much of it. The evidence combines as `Σ −ln p_k`
 * (Fisher's statistic), plus a small share of the transition surprisal to order sessions whose
 * evidence is otherwise equal, and the combination gets its own leave-one-out conformal table: that
 * last p-value is what the budget thresholds. So a kind of evidence flags on its own only when it is
 * rarer among normal sessions than the budget allows, several weak signs add up, and the share of
 * normal sessions flagged stays within the budget.
 *
 * A novelty rule (new event, pair, run of three) enters the sum only when at most
 * {@link RULE_ADMISSION_RATE} of the training sessions show it leave-one-out; otherwise it only orders
 * sessions (weight {@link ORDERING_WEIGHT}). A rule that one normal session in twenty shows says
 * little, and summed with others it says it twice: with 50 HDFS sessions, 3 of 51 show a new pair and
 * 8 of 51 a new run of three, and counting those flagged 8 normal sessions more among 7,577 whose
 * counts, length and events were all known. Length and count distance are distances, conformal at
 * every magnitude, and always enter.
 */

export type SessionModel = NonNullable<ModelArtifact['sessions']>;

/** The kinds of evidence (the rules), in the order reasons list them. */
export const SESSION_RULES = ['events', 'transitions', 'windows', 'length', 'distance'] as const;
export type SessionRule = (typeof SESSION_RULES)[number];

/** The reason each kind of evidence gives. */
export const RULE_REASONS: Readonly<Record<SessionRule, string>> = {
  events: 'new-event',
  transitions: 'new-transition',
  windows: 'new-window',
  length: 'new-length',
  distance: 'new-event-counts',
};

/**
 * Smallest tail scale of each kind's p-value above its largest training value, in its own units: a
 * further new event (or pair, or window) divides the p-value by e; length and distance by their
 * natural spread when the training values are all 0.
 */
const MIN_TAIL: Readonly<Record<SessionRule, number>> = {
  events: 1,
  transitions: 1,
  windows: 1,
  length: 0.1,
  distance: 0.05,
};
/** The combined evidence's tail scale, in nats. */
const COMBINED_MIN_TAIL = 1;

/**
 * Weight of the transition surprisal `S/(1 + S)` (below 1) in the combined evidence, where each kind
 * of evidence adds `−ln p` (several nats): it orders sessions whose evidence is otherwise equal (so
 * flagged sessions do not tie) and decides almost nothing.
 */
export const SURPRISAL_WEIGHT = 0.1;
/** Additive smoothing of transition counts in the surprisal. */
const SURPRISAL_SMOOTHING = 0.1;
/** Largest leave-one-out rate `(m + 1)/(n + 1)` of a novelty rule that enters the combined evidence. */
export const RULE_ADMISSION_RATE = 0.05;
/** Weight of a novelty rule that is not admitted: it orders sessions, it decides (almost) nothing. */
export const ORDERING_WEIGHT = 0.01;
/** The novelty rules: counted evidence whose rate decides whether it is admitted. */
const NOVELTY_RULES = ['events', 'transitions', 'windows'] as const satisfies readonly SessionRule[];

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
class SessionIndex {
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

/** The combined evidence of a session given each kind's table and which novelty rules are admitted. */
function combine(
  model: Pick<SessionModel, 'components' | 'admitted'>,
  values: Readonly<Record<SessionRule, number>>,
  surprisal: number,
): number {
  let sum = SURPRISAL_WEIGHT * (surprisal / (1 + surprisal));
  for (const rule of SESSION_RULES) {
    if (values[rule] <= 0) continue;
    const weight = rule === 'length' || rule === 'distance' || model.admitted[rule] ? 1 : ORDERING_WEIGHT;
    sum -= weight * Math.log(pValue(model.components[rule], values[rule]));
  }
  return sum;
}

/**
 * Fits the session model on normal training sessions of template ids (`-1`: no template matched).
 * `ids` name the sessions (block or request ids) for the nearest-session evidence; by default their
 * position in training order. `showing` counts the training sessions showing each kind of evidence
 * leave-one-out (the rule's rate is `(showing + 1)/(n + 1)`).
 */
export function fitSessionModel(
  idSessions: readonly (readonly number[])[],
  ids?: readonly string[],
): { model: SessionModel; showing: Record<SessionRule, number> } {
  if (idSessions.length === 0) throw new Error('a session model needs at least one training session');
  const events = new Map<number, number>();
  const transitions = new Map<string, [number, number]>();
  const windows = new Map<string, [number, number]>();
  const lengths = new Map<number, number>();
  const vectors = new Map<string, [number, string]>();
  idSessions.forEach((session, i) => {
    for (const id of new Set(session)) events.set(id, (events.get(id) ?? 0) + 1);
    count(transitions, transitionKeys(session));
    count(windows, windowKeys(session));
    lengths.set(session.length, (lengths.get(session.length) ?? 0) + 1);
    const key = countKey(session);
    const vector = vectors.get(key);
    if (vector) vector[0]++;
    else vectors.set(key, [1, ids?.[i] ?? `#${i}`]);
  });
  const byKey = <T>(a: readonly [string | number, ...T[]], b: readonly [string | number, ...T[]]) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
  const index = {
    events: [...events.entries()].sort(byKey),
    transitions: [...transitions.entries()]
      .map(([k, [s, o]]) => [k, s, o] as [string, number, number])
      .sort(byKey),
    windows: [...windows.entries()].map(([k, [s, o]]) => [k, s, o] as [string, number, number]).sort(byKey),
    lengths: [...lengths.entries()].sort(byKey),
    countVectors: [...vectors.entries()]
      .map(([k, [s, id]]) => [k, s, id] as [string, number, string])
      .sort(byKey),
  };
  const lookup = new SessionIndex(index);
  const evidence = idSessions.map((session) => lookup.evidence(session, 1));
  const components = Object.fromEntries(
    SESSION_RULES.map((rule) => [
      rule,
      conformalTable(
        evidence.map((e) => e.values[rule]),
        MIN_TAIL[rule],
      ),
    ]),
  ) as Record<SessionRule, ConformalTable>;
  const n = idSessions.length;
  const showing = Object.fromEntries(
    SESSION_RULES.map((rule) => [rule, evidence.filter((e) => e.values[rule] > 0).length]),
  ) as Record<SessionRule, number>;
  const admitted = Object.fromEntries(
    NOVELTY_RULES.map((rule) => [rule, (showing[rule] + 1) / (n + 1) <= RULE_ADMISSION_RATE]),
  ) as SessionModel['admitted'];
  const combined = evidence.map((e) => combine({ components, admitted }, e.values, e.surprisal));
  return {
    model: { n, ...index, components, admitted, table: conformalTable(combined, COMBINED_MIN_TAIL) },
    showing,
  };
}

/** Adds a session's keys to `[sessions holding it, occurrences]` per key. */
function count(into: Map<string, [number, number]>, keys: readonly string[]): void {
  for (const k of keys) {
    const entry = into.get(k) ?? [0, 0];
    entry[1]++;
    into.set(k, entry);
  }
  for (const k of new Set(keys)) into.get(k)![0]++;
}

/** A session's p-value under the model, with its evidence. */
export interface SessionVerdict {
  readonly p: number;
  readonly evidence: SessionEvidence;
}

/**
 * Scores sessions against a fitted {@link SessionModel}: whole sessions (evaluation, `scoreSession`),
 * and the part of a session a serving batch holds (each line's own event, its pair and its run of
 * three with the lines before it in the batch: evidence a whole session would show too, so the
 * p-value is conservative).
 */
export class SessionScorer {
  private readonly index: SessionIndex;

  constructor(private readonly model: SessionModel) {
    this.index = new SessionIndex(model);
  }

  /** A complete session's p-value and evidence. */
  score(ids: readonly number[]): SessionVerdict {
    const evidence = this.index.evidence(ids, 0);
    return {
      p: pValue(this.model.table, combine(this.model, evidence.values, evidence.surprisal)),
      evidence,
    };
  }

  /** Whether the training sessions hold an event, a pair `a>b`, a run `a>b>c`. */
  knowsEvent(id: number): boolean {
    return this.index.eventSupport.has(id);
  }
  knowsTransition(key: string): boolean {
    return this.index.transitionSupport.has(key);
  }
  knowsWindow(key: string): boolean {
    return this.index.windowSupport.has(key);
  }

  /** The p-value of partial evidence: one new event, pair or run of three at most each. */
  partialP(newEvent: boolean, newTransition: boolean, newWindow: boolean): number {
    const values = {
      ...NO_EVIDENCE,
      events: newEvent ? 1 : 0,
      transitions: newTransition ? 1 : 0,
      windows: newWindow ? 1 : 0,
    };
    return pValue(this.model.table, combine(this.model, values, 0));
  }

  /**
   * Per kind of evidence, the smallest value at which it alone reaches `budget`, or undefined when no
   * value up to 1000 does (it can then only flag together with other evidence).
   */
  flagsAloneAt(rule: SessionRule, budget: number): number | undefined {
    const aloneP = (v: number) =>
      pValue(this.model.table, combine(this.model, { ...NO_EVIDENCE, [rule]: v }, 0));
    if (aloneP(1000) > budget) return undefined;
    let lo = 0;
    let hi = 1000;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (aloneP(mid) <= budget) hi = mid;
      else lo = mid;
    }
    return COUNTED.has(rule) ? Math.max(1, Math.ceil(hi - 1e-9)) : Math.ceil(hi * 1e4) / 1e4;
  }
}

const NO_EVIDENCE: Readonly<Record<SessionRule, number>> = {
  events: 0,
  transitions: 0,
  windows: 0,
  length: 0,
  distance: 0,
};
const COUNTED: ReadonlySet<SessionRule> = new Set(['events', 'transitions', 'windows']);
