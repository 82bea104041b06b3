import { join } from 'node:path';
import { readLabelledLines, readSessions } from '../data/datasets.ts';
import { LABELLED_DATA_DIR } from '../data/loghub.ts';
import {
  benchmarkLines,
  benchmarkSessions,
  type DatasetFigures,
  hdfsRest,
  hdfsSplit,
  METHODS,
  normalSequencesOf,
} from './benchmark.ts';
import type { TrainOptions } from './train.ts';

/** Normal training sessions in the small-training variants: far too few for the default budget. */
export const SMALL_TRAINING_SESSIONS = 50;
/**
 * Normal training sessions of the held-out variant: the other 2,096 normal training sessions join
 * the 1,531 normal test sessions, so the false-positive rate is measured on 3,627 sessions training
 * never saw (DeepLog trained on 4,855 normal HDFS sessions).
 */
export const HELD_OUT_TRAINING_SESSIONS = 4000;

/** A group of datasets sharing one training run. */
export interface BenchmarkGroup {
  readonly datasets: readonly string[];
  readonly run: () => Promise<DatasetFigures[]>;
}

/** The datasets of `npm run model:benchmark`, in groups that share a training run. */
export function benchmarkSuite(
  dataDir: string = LABELLED_DATA_DIR,
  options: TrainOptions = {},
): BenchmarkGroup[] {
  const loghub = (name: string) => join(dataDir, 'loghub', name, `${name}_2k.log_structured.csv`);
  const lines = (name: string): BenchmarkGroup => ({
    datasets: [`${name}_2k`],
    run: async () => [
      await benchmarkLines(`${name}_2k`, readLabelledLines(loghub(name), 'loghub'), 0.5, options),
    ],
  });
  let sessions: ReturnType<typeof readSessions> | undefined;
  const hdfs = () => {
    sessions ??= readSessions(join(dataDir, 'sessions', 'hdfs100k.jsonl'));
    return sessions;
  };
  const sessionGroup = (name: string, limit: number | undefined, withTestSplit: boolean): BenchmarkGroup => ({
    datasets: withTestSplit ? [name, `${name}-rest`] : [name],
    run: () => {
      const all = hdfs();
      const { train, test } = hdfsSplit(all, limit);
      const rest = hdfsRest(all, limit).test;
      const tests = withTestSplit
        ? [
            { dataset: name, test },
            { dataset: `${name}-rest`, test: rest },
          ]
        : [{ dataset: name, test: rest }];
      return benchmarkSessions(train, tests, options, normalSequencesOf(all));
    },
  });
  return [
    lines('BGL'),
    lines('Thunderbird'),
    lines('HDFS'),
    sessionGroup('hdfs100k', undefined, true),
    sessionGroup(`hdfs100k-${HELD_OUT_TRAINING_SESSIONS}`, HELD_OUT_TRAINING_SESSIONS, false),
    sessionGroup(`hdfs100k-${SMALL_TRAINING_SESSIONS}`, SMALL_TRAINING_SESSIONS, true),
  ];
}

/** A fixed-width table of the figures, one row per dataset and method, then the budget and spread lines. */
export function formatTable(results: readonly DatasetFigures[]): string {
  const header = [
    'dataset',
    'train',
    'test (anom.)',
    'method',
    'precision',
    'recall',
    'f1',
    'ap',
    'fpr',
    'fpr ≤ (95%)',
    'flagged',
  ];
  const rows: string[][] = [];
  for (const r of results) {
    for (const method of METHODS) {
      const m = r.methods[method];
      const first = method === 'model';
      rows.push([
        first ? r.dataset : '',
        first ? String(r.trainItems) : '',
        first ? `${r.n} (${r.anomalies})` : '',
        first ? `model (oracle f1 ${r.oracleF1.toFixed(4)})` : method,
        ...[m.precision, m.recall, m.f1, m.ap, m.fpr, m.fprUpper95].map((x) => x.toFixed(4)),
        String(m.flagged),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const notes = results.map((r) => {
    const budget = `budget ${r.budget.declared}${r.budget.fallback ? ` → ${r.budget.effective.toPrecision(4)} (${r.budget.fallback})` : ''}`;
    const s = r.spread;
    const spread = `flagged scores ${s.min.toFixed(6)}–${s.max.toFixed(6)}, ${s.distinctScores} distinct for ${s.distinctItems} distinct items, ${s.atTop} at the top (${s.distinctAtTop} distinct)`;
    const separable = r.separable
      ? `; separable anomalies ${r.separable.flagged}/${r.separable.anomalies} = ${r.separable.recall.toFixed(4)}`
      : '';
    return `${r.dataset}: ${budget}; ${spread}${separable}`;
  });
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', ...notes].join('\n');
}
