/** Detection metrics for `model:eval`, computed from scores, labels and a threshold. */
export interface DetectionMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly fpr: number;
  /** One-sided 95 % upper bound of the false-positive rate (Clopper–Pearson), rounded up. */
  readonly fprUpper95: number;
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
    fprUpper95: negatives === 0 ? 1 : Math.ceil(binomialUpperBound(fp, negatives) * 1e4) / 1e4,
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

/**
 * The one-sided Clopper–Pearson upper bound of a rate seen as `k` of `n`: the rate `u` at which seeing
 * `k` or fewer has probability `1 − confidence`. With `k = 0` it is `1 − (1 − confidence)^(1/n)`:
 * 1,531 clean normal sessions bound the false-positive rate at 0.00196, not lower.
 *
 * @example
 * binomialUpperBound(0, 1531); // 0.001955
 */
export function binomialUpperBound(k: number, n: number, confidence = 0.95): number {
  if (k >= n) return 1;
  let lo = k / n;
  let hi = 1;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (binomialCdf(k, n, mid) > 1 - confidence) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** P(Bin(n, p) ≤ k), summed in log space. */
function binomialCdf(k: number, n: number, p: number): number {
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += Math.exp(logChoose(n, i) + i * logP + (n - i) * logQ);
  }
  return sum;
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: ~15 significant digits). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
