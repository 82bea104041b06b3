import type { SessionRecord } from '../data/datasets.ts';
import type { LabelledLine } from '../data/loghub.ts';
import { averagePrecision, type DetectionMetrics, detectionMetrics } from './metrics.ts';
import { AnomalyModel } from './model.ts';
import { type TrainOptions, trainOnLines, trainOnSessions } from './train.ts';

/**
 * Chronological evaluation on labelled lines: train on the normal lines of the first
 * `trainFraction`, score the rest with the threshold fitted on the training part alone.
 */
export async function evaluateLines(
  lines: readonly LabelledLine[],
  trainFraction = 0.5,
  options: TrainOptions = {},
): Promise<LineEvaluation> {
  if (!(trainFraction > 0 && trainFraction < 1))
    throw new Error(`--train-fraction must be in (0, 1); got ${trainFraction}`);
  const cut = Math.floor(lines.length * trainFraction);
  const train = lines.slice(0, cut).filter((l) => l.label === 0);
  const test = lines.slice(cut);
  if (train.length < 2 || test.length === 0) {
    throw new Error(
      `need at least 2 normal training lines and 1 test line; got ${train.length} and ${test.length}`,
    );
  }
  const model = new AnomalyModel(
    (
      await trainOnLines(
        train.map((l) => l.line),
        options,
      )
    ).artifact,
  );
  // The test part is scored as one batch, as a serving request would be: each line in the context of
  // its window and session. Header timestamps place lines in windows.
  const events = test.map((l) => ({ timestamp: 0, message: l.line }));
  const scored = model.scoreEvents(events);
  const labels = test.map((l) => l.label);
  const metrics = detectionMetrics(
    scored.map((s) => s.score),
    labels,
    model.threshold,
  );
  const alone = test.map((l) => model.scoreEvent({ timestamp: 0, message: l.line }).score);
  const count = (prefix: string) =>
    scored.filter((s) => s.anomaly && s.reasons.some((r) => r.startsWith(prefix))).length;
  const { window, score } = model.scoreWindows(events);
  const windowLabels = score.map(() => 0);
  window.forEach((w, i) => {
    if (labels[i] === 1) windowLabels[w] = 1;
  });
  const spec = model.artifact.windows;
  return {
    ...metrics,
    context: {
      lineOnlyAp: round4(averagePrecision(alone, labels)),
      lineOnlyF1: detectionMetrics(alone, labels, model.threshold).f1,
      flaggedByParamShift: count('param-shift:'),
      flaggedByWindowBurst: count('window:burst'),
      flaggedInUnusualWindow: count('window:unusual-counts'),
      flaggedBySession: count('session:'),
    },
    ...(spec
      ? {
          windows: {
            mode: spec.mode,
            size: spec.size,
            trainingWindows: spec.trainingWindows,
            n: score.length,
            withAnomalies: windowLabels.reduce((a: number, b) => a + b, 0),
            flagged: score.filter((s) => s >= model.threshold).length,
            ap: round4(averagePrecision(score, windowLabels)),
            fpr: detectionMetrics(score, windowLabels, model.threshold).fpr,
          },
        }
      : {}),
  };
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** What the context of a line (its window and session) added, next to the line-only figures. */
export interface LineEvaluation extends DetectionMetrics {
  readonly context: {
    readonly lineOnlyAp: number;
    readonly lineOnlyF1: number;
    readonly flaggedByParamShift: number;
    readonly flaggedByWindowBurst: number;
    readonly flaggedInUnusualWindow: number;
    readonly flaggedBySession: number;
  };
  /** Window-level figures: a window is anomalous when it holds an anomalous line. */
  readonly windows?: {
    readonly mode: 'time' | 'count';
    readonly size: number;
    readonly trainingWindows: number;
    readonly n: number;
    readonly withAnomalies: number;
    readonly flagged: number;
    readonly ap: number;
    readonly fpr: number;
  };
}

/**
 * Session evaluation: train on the label-0 sessions of `train` (those marked `split: "train"` when
 * the file carries splits), score `test` (its `split: "test"` sessions when it carries splits).
 */
export async function evaluateSessions(
  train: readonly SessionRecord[],
  test: readonly SessionRecord[],
  options: TrainOptions = {},
): Promise<DetectionMetrics> {
  const trainSet = train.filter((s) => s.label === 0 && s.split !== 'test');
  const testSet = test.some((s) => s.split !== undefined) ? test.filter((s) => s.split === 'test') : test;
  if (trainSet.length < 2 || testSet.length === 0) {
    throw new Error(
      `need at least 2 normal training sessions and 1 test session; got ${trainSet.length} and ${testSet.length}`,
    );
  }
  const model = new AnomalyModel(
    (
      await trainOnSessions(
        trainSet.map((s) => s.events),
        options,
      )
    ).artifact,
  );
  const scores = testSet.map((s) => model.scoreSession(s.events).score);
  return detectionMetrics(
    scores,
    testSet.map((s) => s.label),
    model.sessionThreshold,
  );
}
