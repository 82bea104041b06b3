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
} from './benchmark.ts';

/** Normal training sessions in the small-training variants: where a 99% training quantile is no threshold. */
export const SMALL_TRAINING_SESSIONS = 50;

/** The datasets of `npm run model:benchmark`, each a name and how to run it. */
export function benchmarkSuite(dataDir: string = LABELLED_DATA_DIR, seed = 42) {
  const loghub = (name: string) => join(dataDir, 'loghub', name, `${name}_2k.log_structured.csv`);
  const lines = (name: string) => () =>
    benchmarkLines(`${name}_2k`, readLabelledLines(loghub(name), 'loghub'), 0.5, { seed });
  let sessions: ReturnType<typeof readSessions> | undefined;
  const hdfs = () => {
    sessions ??= readSessions(join(dataDir, 'sessions', 'hdfs100k.jsonl'));
    return sessions;
  };
  return [
    { name: 'BGL_2k', run: lines('BGL') },
    { name: 'Thunderbird_2k', run: lines('Thunderbird') },
    { name: 'HDFS_2k', run: lines('HDFS') },
    {
      name: 'hdfs100k',
      run: () => {
        const { train, test } = hdfsSplit(hdfs());
        return benchmarkSessions('hdfs100k', train, test, { seed });
      },
    },
    {
      name: `hdfs100k-${SMALL_TRAINING_SESSIONS}`,
      run: () => {
        const { train, test } = hdfsSplit(hdfs(), SMALL_TRAINING_SESSIONS);
        return benchmarkSessions(`hdfs100k-${SMALL_TRAINING_SESSIONS}`, train, test, { seed });
      },
    },
    {
      name: `hdfs100k-${SMALL_TRAINING_SESSIONS}-rest`,
      run: () => {
        const { train, test } = hdfsRest(hdfs(), SMALL_TRAINING_SESSIONS);
        return benchmarkSessions(`hdfs100k-${SMALL_TRAINING_SESSIONS}-rest`, train, test, { seed });
      },
    },
  ] as const satisfies readonly { name: string; run: () => Promise<DatasetFigures> }[];
}

/** A fixed-width table of the figures, one row per dataset and method. */
export function formatTable(results: readonly DatasetFigures[]): string {
  const header = [
    'dataset',
    'train',
    'test (anom.)',
    'method',
    'precision',
    'recall',
    'f1',
    'fpr',
    'ap',
    'flagged',
  ];
  const rows: string[][] = [];
  for (const r of results) {
    for (const method of METHODS) {
      const m = r.methods[method];
      rows.push([
        method === 'model' ? r.dataset : '',
        method === 'model' ? String(r.trainItems) : '',
        method === 'model' ? `${r.n} (${r.anomalies})` : '',
        method === 'model' ? `model (oracle f1 ${r.oracleF1.toFixed(4)})` : method,
        ...[m.precision, m.recall, m.f1, m.fpr, m.ap].map((x) => x.toFixed(4)),
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
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
