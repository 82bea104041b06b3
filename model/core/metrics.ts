/** Detection metrics for `model:eval`, computed from scores, labels and a threshold. */
export interface DetectionMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly fpr: number;
  /** Average precision (area under the precision-recall curve, step-wise). */
  readonly ap: number;
  /** Area under the ROC curve (ties counted half). */
  readonly rocAuc: number;
  readonly threshold: number;
  /** Items evaluated. */
  readonly n: number;
  /** Labelled anomalies among them. */
  readonly anomalies: number;
}

/**
 * Metrics of `scores` against `labels` (1 = anomaly) at `threshold` (`score >= threshold` flags).
 * Undefined ratios (no positives, no flags) are 0, so the JSON stays numeric.
 */
export function detectionMetrics(
  scores: readonly number[],
  labels: readonly number[],
  threshold: number,
): DetectionMetrics {
  let tp = 0;
  let fp = 0;
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    const flagged = scores[i]! >= threshold;
    if (labels[i] === 1) {
      positives++;
      if (flagged) tp++;
    } else if (flagged) fp++;
  }
  const negatives = scores.length - positives;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = positives === 0 ? 0 : tp / positives;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    precision: round(precision),
    recall: round(recall),
    f1: round(f1),
    fpr: round(negatives === 0 ? 0 : fp / negatives),
    ap: round(averagePrecision(scores, labels)),
    rocAuc: round(rocAuc(scores, labels)),
    threshold: round(threshold),
    n: scores.length,
    anomalies: positives,
  };
}

/** Average precision with tied scores treated as one step (no optimistic ordering inside ties). */
export function averagePrecision(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => b[0] - a[0]);
  const positives = order.filter(([, l]) => l === 1).length;
  if (positives === 0) return 0;
  let tp = 0;
  let seen = 0;
  let ap = 0;
  let previousRecall = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) {
      if (order[j]![1] === 1) tp++;
      j++;
    }
    seen = j;
    const recall = tp / positives;
    ap += (recall - previousRecall) * (tp / seen);
    previousRecall = recall;
    i = j;
  }
  return ap;
}

/** ROC AUC by the rank-sum (Mann-Whitney) statistic, ties counted half. */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (order[k]![1] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return 0;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
