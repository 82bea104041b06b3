import type { DatasetFigures } from '../core/benchmark.ts';
import { benchmarkSuite, formatTable } from '../core/benchmark-suite.ts';
import { LABELLED_DATA_DIR } from '../data/loghub.ts';
import { parseOptions, runCli, UsageError } from './args.ts';

const USAGE = `usage:
  npm run model:benchmark -- [--data DIR] [--only NAME[,NAME…]] [--seed N]
  The model next to the new-event, STIDE (window 2) and count-vector nearest-neighbour baselines on
  the same splits (BGL_2k, Thunderbird_2k, HDFS_2k, hdfs100k, hdfs100k with 50 training sessions).
  Prints a table, then one JSON line: {"datasets":[…]}. DIR defaults to model/data/labelled.`;

runCli(USAGE, async () => {
  const args = parseOptions(process.argv.slice(2), {
    data: { type: 'string' },
    only: { type: 'string' },
    seed: { type: 'string' },
  });
  const seed = args.seed === undefined ? 42 : Number(args.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer; got ${args.seed}`);
  const suite = benchmarkSuite(args.data ?? LABELLED_DATA_DIR, seed);
  const only = args.only?.split(',');
  const unknown = only?.filter((n) => !suite.some((d) => d.name === n)) ?? [];
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown dataset ${unknown.join(', ')}; known: ${suite.map((d) => d.name).join(', ')}`,
    );
  }
  const results: DatasetFigures[] = [];
  const started = performance.now();
  for (const dataset of suite) {
    if (only && !only.includes(dataset.name)) continue;
    results.push(await dataset.run());
  }
  console.error(`benchmarked in ${Math.round(performance.now() - started)} ms`);
  console.log(formatTable(results));
  console.log(JSON.stringify({ datasets: results }));
});
