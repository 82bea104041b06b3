import type { SessionRecord } from '../data/datasets.ts';
import type { LabelledLine } from '../data/loghub.ts';
import { parseLogLine } from '../features/parse.ts';
import {
  type BaselineScores,
  nearestNeighbourBaseline,
  newEventBaseline,
  stideBaseline,
  stideLineBaseline,
} from './baselines.ts';
import { detectionMetrics } from './metrics.ts';
import { AnomalyModel, CALIBRATED_THRESHOLD } from './model.ts';
import { type TrainOptions, trainOnLines, trainOnSessions } from './train.ts';

/**
 * The model next to trivial baselines on the same split, in the same run (`npm run model:benchmark`):
 * each method's threshold comes from the training part alone; `oracleF1` is the best F1 any threshold
 * on the model's own test scores reaches, the ceiling a training-only threshold is measured against.
 */

export const METHODS = ['model', 'new-event', 'stide-2', 'count-nn'] as const;
export type Method = (typeof METHODS)[number];

export interface MethodFigures {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly fpr: number;
  readonly ap: number;
  readonly flagged: number;
}

export interface DatasetFigures {
  readonly dataset: string;
  readonly unit: 'line' | 'session';
  readonly trainItems: number;
  readonly n: number;
  readonly anomalies: number;
  readonly methods: Readonly<Record<Method, MethodFigures>>;
  /** Best F1 over every threshold on the model's test scores (0 without labelled anomalies). */
  readonly oracleF1: number;
}

function figures(scores: readonly number[], labels: readonly number[], threshold: number): MethodFigures {
  const m = detectionMetrics(scores, labels, threshold);
  return {
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    fpr: m.fpr,
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

function assemble(
  dataset: string,
  unit: 'line' | 'session',
  trainItems: number,
  labels: readonly number[],
  model: readonly number[],
  baselines: Readonly<Record<Exclude<Method, 'model'>, BaselineScores>>,
): DatasetFigures {
  return {
    dataset,
    unit,
    trainItems,
    n: labels.length,
    anomalies: labels.filter((l) => l === 1).length,
    methods: {
      model: figures(model, labels, CALIBRATED_THRESHOLD),
      'new-event': figures(baselines['new-event'].scores, labels, baselines['new-event'].threshold),
      'stide-2': figures(baselines['stide-2'].scores, labels, baselines['stide-2'].threshold),
      'count-nn': figures(baselines['count-nn'].scores, labels, baselines['count-nn'].threshold),
    },
    oracleF1: oracleF1(model, labels),
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
  const scores = model.scoreEvents(test.map((l) => ({ timestamp: 0, message: l.line }))).map((s) => s.score);
  const tokensOf = (l: LabelledLine) => model.miner.tokenize(parseLogLine(l.line).message);
  const idOf = (l: LabelledLine) => model.miner.match(parseLogLine(l.line).message)?.templateId ?? -1;
  const trainIds = train.map(idOf);
  const testIds = test.map(idOf);
  return assemble(
    dataset,
    'line',
    train.length,
    test.map((l) => l.label),
    scores,
    {
      'new-event': newEventBaseline(
        trainIds.map((id) => [id]),
        testIds.map((id) => [id]),
      ),
      'stide-2': stideLineBaseline(trainIds, testIds),
      'count-nn': nearestNeighbourBaseline(train.map(tokensOf), test.map(tokensOf)),
    },
  );
}

/** Session data: the model and the baselines train on the same normal sessions, score the same test. */
export async function benchmarkSessions(
  dataset: string,
  train: readonly SessionRecord[],
  test: readonly SessionRecord[],
  options: TrainOptions = {},
): Promise<DatasetFigures> {
  const model = new AnomalyModel(
    (
      await trainOnSessions(
        train.map((s) => s.events),
        options,
      )
    ).artifact,
  );
  const scores = test.map((s) => model.scoreSession(s.events).score);
  const trainEvents = train.map((s) => s.events);
  const testEvents = test.map((s) => s.events);
  return assemble(
    dataset,
    'session',
    train.length,
    test.map((s) => s.label),
    scores,
    {
      'new-event': newEventBaseline(trainEvents, testEvents),
      'stide-2': stideBaseline(trainEvents, testEvents),
      'count-nn': nearestNeighbourBaseline(trainEvents, testEvents),
    },
  );
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

/** Small training, wider test: the first `limit` normal training sessions, tested on every other session. */
export function hdfsRest(
  sessions: readonly SessionRecord[],
  limit: number,
): { train: SessionRecord[]; test: SessionRecord[] } {
  const train = hdfsSplit(sessions, limit).train;
  const used = new Set(train);
  return { train, test: sessions.filter((s) => !used.has(s)) };
}
