import type { SessionRecord } from '../data/datasets.ts';
import type { LabelledLine } from '../data/loghub.ts';
import { type DetectionMetrics, detectionMetrics } from './metrics.ts';
import { AnomalyModel, CALIBRATED_THRESHOLD } from './model.ts';
import { type TrainOptions, trainOnLines, trainOnSessions } from './train.ts';

/**
 * Chronological evaluation on labelled lines: train on the normal lines of the first
 * `trainFraction`, score the rest with the threshold fitted on the training part alone.
 */
export async function evaluateLines(
  lines: readonly LabelledLine[],
  trainFraction = 0.5,
  options: TrainOptions = {},
): Promise<DetectionMetrics> {
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
  const scores = test.map((l) => model.scoreEvent({ timestamp: 0, message: l.line }).score);
  return detectionMetrics(
    scores,
    test.map((l) => l.label),
    CALIBRATED_THRESHOLD,
  );
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
    CALIBRATED_THRESHOLD,
  );
}
