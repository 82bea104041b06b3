import { budgetFallbackNote, DEFAULT_BUDGET, effectiveBudget } from '../../contracts/alert-budget.ts';
import type { SessionRecord } from '../data/datasets.ts';
import type { LabelledLine } from '../data/loghub.ts';
import { parseLogLine } from '../features/parse.ts';
import {
  type BaselineScores,
  nearestNeighbourBaseline,
  nearestNeighbourBudgetBaseline,
  newEventBaseline,
  stideBaseline,
  stideLineBaseline,
} from './baselines.ts';
import { detectionMetrics } from './metrics.ts';
import { AnomalyModel } from './model.ts';
import { type TrainOptions, trainOnLines, trainOnSessions } from './train.ts';

/**
 * The model next to trivial baselines on the same split, in the same run (`npm run model:benchmark`):
 * each method's threshold comes from the training part alone; `oracleF1` is the best F1 any threshold
 * on the model's own test scores reaches, the ceiling a training-only threshold is measured against.
 */

export const METHODS = ['model', 'new-event', 'stide-2', 'count-nn', 'count-budget'] as const;
export type Method = (typeof METHODS)[number];

export interface MethodFigures {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly fpr: number;
  /** One-sided 95 % upper bound of the false-positive rate (Clopper–Pearson). */
  readonly fprUpper95: number;
  readonly ap: number;
  readonly flagged: number;
}

/** The alert budget a dataset ran at: declared, applied, and why they differ. */
export interface BudgetFigures {
  readonly declared: number;
  readonly effective: number;
  readonly fallback?: string;
}

/** How the model's flagged items' scores spread: ties at the top would leave a threshold nothing to cut. */
export interface ScoreSpread {
  readonly flagged: number;
  readonly distinctScores: number;
  /**
   * Distinct items among the flagged (event sequences; for lines, template and reasons): identical
   * items must tie.
   */
  readonly distinctItems: number;
  readonly min: number;
  readonly max: number;
  /** Items at the top score, and how many distinct items they are (1: only copies of one item tie). */
  readonly atTop: number;
  readonly distinctAtTop: number;
}

/** Recall on the anomalies that differ from every normal session of the data set. */
export interface SeparableFigures {
  readonly anomalies: number;
  readonly flagged: number;
  readonly recall: number;
}

export interface DatasetFigures {
  readonly dataset: string;
  readonly unit: 'line' | 'session';
  readonly trainItems: number;
  readonly n: number;
  readonly anomalies: number;
  readonly budget: BudgetFigures;
  readonly methods: Readonly<Record<Method, MethodFigures>>;
  /** Best F1 over every threshold on the model's test scores (0 without labelled anomalies). */
  readonly oracleF1: number;
  readonly spread: ScoreSpread;
  readonly separable?: SeparableFigures;
}

function figures(scores: readonly number[], labels: readonly number[], threshold: number): MethodFigures {
  const m = detectionMetrics(scores, labels, threshold);
  return {
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    fpr: m.fpr,
    fprUpper95: m.fprUpper95,
    ap: m.ap,
    flagged: scores.filter((s) => s >= threshold).length,
  };
}

/** The best F1 reachable by any threshold on these scores. */
export function oracleF1(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => b[0] - a[0]);
  const positives = order.filter(([, l]) => l === 1).length;
  if (positives === 0) return 0;
  let tp = 0;
  let best = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) {
      if (order[j]![1] === 1) tp++;
      j++;
    }
    best = Math.max(best, (2 * tp) / (j + positives));
    i = j;
  }
  return Math.round(best * 1e4) / 1e4;
}

/** The spread of the scores at or above the threshold. */
export function scoreSpread(
  scores: readonly number[],
  items: readonly string[],
  threshold: number,
): ScoreSpread {
  const flagged = scores.flatMap((s, i) => (s >= threshold ? [[s, items[i]!] as const] : []));
  const values = flagged.map(([s]) => s);
  const max = values.length > 0 ? Math.max(...values) : 0;
  return {
    flagged: flagged.length,
    distinctScores: new Set(values).size,
    distinctItems: new Set(flagged.map(([, item]) => item)).size,
    min: values.length > 0 ? Math.min(...values) : 0,
    max,
    atTop: values.filter((s) => s === max).length,
    distinctAtTop: new Set(flagged.filter(([s]) => s === max).map(([, item]) => item)).size,
  };
}

interface Scored {
  readonly labels: readonly number[];
  readonly model: readonly number[];
  readonly threshold: number;
  readonly items: readonly string[];
}

function assemble(
  dataset: string,
  unit: 'line' | 'session',
  trainItems: number,
  budget: number,
  scored: Scored,
  baselines: Readonly<Record<Exclude<Method, 'model'>, BaselineScores>>,
): DatasetFigures {
  const { labels, model, threshold } = scored;
  const fallback = budgetFallbackNote(budget, trainItems);
  const baseline = (m: Exclude<Method, 'model'>) =>
    figures(baselines[m].scores, labels, baselines[m].threshold);
  return {
    dataset,
    unit,
    trainItems,
    n: labels.length,
    anomalies: labels.filter((l) => l === 1).length,
    budget: {
      declared: budget,
      effective: effectiveBudget(budget, trainItems),
      ...(fallback ? { fallback } : {}),
    },
    methods: {
      model: figures(model, labels, threshold),
      'new-event': baseline('new-event'),
      'stide-2': baseline('stide-2'),
      'count-nn': baseline('count-nn'),
      'count-budget': baseline('count-budget'),
    },
    oracleF1: oracleF1(model, labels),
    spread: scoreSpread(model, scored.items, threshold),
  };
}

/**
 * Line data, chronological: the normal lines of the first `trainFraction` train the model and every
 * baseline; the rest is the test. Baselines see the training miner's template ids (the event stream)
 * and, for the count vector, the masked tokens of each line.
 */
export async function benchmarkLines(
  dataset: string,
  lines: readonly LabelledLine[],
  trainFraction = 0.5,
  options: TrainOptions = {},
): Promise<DatasetFigures> {
  const cut = Math.floor(lines.length * trainFraction);
  const train = lines.slice(0, cut).filter((l) => l.label === 0);
  const test = lines.slice(cut);
  const model = new AnomalyModel(
    (
      await trainOnLines(
        train.map((l) => l.line),
        options,
      )
    ).artifact,
  );
  const scored = model.scoreEvents(test.map((l) => ({ timestamp: 0, message: l.line })));
  const scores = scored.map((s) => s.score);
  const tokensOf = (l: LabelledLine) => model.miner.tokenize(parseLogLine(l.line).message);
  const idOf = (l: LabelledLine) => model.miner.match(parseLogLine(l.line).message)?.templateId ?? -1;
  const trainIds = train.map(idOf);
  const testIds = test.map(idOf);
  const budget = options.budget ?? DEFAULT_BUDGET;
  return assemble(
    dataset,
    'line',
    train.length,
    budget,
    // Lines of one template and the same reasons are one item: their variables do not move the score.
    {
      labels: test.map((l) => l.label),
      model: scores,
      threshold: model.threshold,
      items: scored.map((s) => `${s.template} ${s.reasons.join(',')}`),
    },
    {
      'new-event': newEventBaseline(
        trainIds.map((id) => [id]),
        testIds.map((id) => [id]),
      ),
      'stide-2': stideLineBaseline(trainIds, testIds),
      'count-nn': nearestNeighbourBaseline(train.map(tokensOf), test.map(tokensOf)),
      'count-budget': nearestNeighbourBudgetBaseline(
        train.map(tokensOf),
        test.map(tokensOf),
        effectiveBudget(budget, train.length),
      ),
    },
  );
}

/** One test set of a session benchmark: its name and sessions. */
export interface SessionTest {
  readonly dataset: string;
  readonly test: readonly SessionRecord[];
}

/**
 * Session data: the model and the baselines train once on the normal sessions of `train` and score
 * each test set. With `normalSequences` (every normal session's events, joined), the anomalies whose
 * events differ from all of them are the separable ones, and their recall is reported.
 */
export async function benchmarkSessions(
  train: readonly SessionRecord[],
  tests: readonly SessionTest[],
  options: TrainOptions = {},
  normalSequences?: ReadonlySet<string>,
): Promise<DatasetFigures[]> {
  const model = new AnomalyModel(
    (
      await trainOnSessions(
        train.map((s) => s.events),
        { ...options, sessionIds: train.map((s) => s.id) },
      )
    ).artifact,
  );
  const budget = options.budget ?? DEFAULT_BUDGET;
  const trainEvents = train.map((s) => s.events);
  return tests.map(({ dataset, test }) => {
    const scores = test.map((s) => model.scoreSession(s.events).score);
    const testEvents = test.map((s) => s.events);
    const labels = test.map((s) => s.label);
    const figures = assemble(
      dataset,
      'session',
      train.length,
      budget,
      {
        labels,
        model: scores,
        threshold: model.sessionThreshold,
        items: testEvents.map((e) => e.join('\n')),
      },
      {
        'new-event': newEventBaseline(trainEvents, testEvents),
        'stide-2': stideBaseline(trainEvents, testEvents),
        'count-nn': nearestNeighbourBaseline(trainEvents, testEvents),
        'count-budget': nearestNeighbourBudgetBaseline(
          trainEvents,
          testEvents,
          effectiveBudget(budget, train.length),
        ),
      },
    );
    if (!normalSequences) return figures;
    const separable = test.flatMap((s, i) =>
      s.label === 1 && !normalSequences.has(s.events.join('\n')) ? [i] : [],
    );
    const flagged = separable.filter((i) => scores[i]! >= model.sessionThreshold).length;
    return {
      ...figures,
      separable: {
        anomalies: separable.length,
        flagged,
        recall: separable.length === 0 ? 0 : Math.round((flagged / separable.length) * 1e4) / 1e4,
      },
    };
  });
}

/** Every normal session's events, joined: what makes an anomaly unseparable (`model/data/labelled/README.md`). */
export function normalSequencesOf(sessions: readonly SessionRecord[]): Set<string> {
  return new Set(sessions.filter((s) => s.label === 0).map((s) => s.events.join('\n')));
}

/** The hdfs100k splits: all normal training sessions, or the first `limit` of them, against the test split. */
export function hdfsSplit(
  sessions: readonly SessionRecord[],
  limit?: number,
): { train: SessionRecord[]; test: SessionRecord[] } {
  const normal = sessions.filter((s) => s.label === 0 && s.split !== 'test');
  return {
    train: limit === undefined ? normal : normal.slice(0, limit),
    test: sessions.filter((s) => s.split === 'test'),
  };
}

/**
 * Everything the training did not see: the first `limit` normal training sessions (all of them by
 * default) train; every other session is the test — the normal sessions held out, and all anomalies,
 * none of which training saw (it learns from normal sessions only).
 */
export function hdfsRest(
  sessions: readonly SessionRecord[],
  limit?: number,
): { train: SessionRecord[]; test: SessionRecord[] } {
  const train = hdfsSplit(sessions, limit).train;
  const used = new Set(train);
  return { train, test: sessions.filter((s) => !used.has(s)) };
}
