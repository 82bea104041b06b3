import { type ConformalTable, conformalTable, pValue } from './conformal.ts';
import {
  countKey,
  SESSION_RULES,
  type SessionEvidence,
  SessionIndex,
  type SessionModel,
  type SessionRule,
  transitionKeys,
  windowKeys,
} from './session-evidence.ts';

export {
  SESSION_RULES,
  type SessionEvidence,
  type SessionModel,
  type SessionRule,
} from './session-evidence.ts';

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
/** Largest leave-one-out rate `(m + 1)/(n + 1)` of a novelty rule that enters the combined evidence. */
export const RULE_ADMISSION_RATE = 0.05;
/** Weight of a novelty rule that is not admitted: it orders sessions, it decides (almost) nothing. */
export const ORDERING_WEIGHT = 0.01;
/** The novelty rules: counted evidence whose rate decides whether it is admitted. */
const NOVELTY_RULES = ['events', 'transitions', 'windows'] as const satisfies readonly SessionRule[];

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
