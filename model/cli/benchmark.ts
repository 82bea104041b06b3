import { DEFAULT_BUDGET } from '../../contracts/alert-budget.ts';
import type { DatasetFigures } from '../core/benchmark.ts';
import { benchmarkSuite, formatTable } from '../core/benchmark-suite.ts';
import { LABELLED_DATA_DIR } from '../data/loghub.ts';
import { parseBudget, parseOptions, runCli, UsageError } from './args.ts';

const USAGE = `usage:
  npm run model:benchmark -- [--data DIR] [--only NAME[,NAME…]] [--seed N] [--budget B]
  The model next to the new-event, STIDE (window 2), count-vector nearest-neighbour and count-vector
  distance at the same budget baselines, on the same splits: BGL_2k, Thunderbird_2k, HDFS_2k,
  hdfs100k (test split; -rest: every session training did not see), hdfs100k-4000 (3,627 held-out
  normal sessions), hdfs100k-50 and hdfs100k-50-rest (50 training sessions).
  Prints a table and a line per dataset (budget, score spread, separable recall), then one JSON line:
  {"datasets":[…]}. DIR defaults to model/data/labelled; B (the alert budget) to ${DEFAULT_BUDGET}.`;

runCli(USAGE, async () => {
  const args = parseOptions(process.argv.slice(2), {
    data: { type: 'string' },
    only: { type: 'string' },
    seed: { type: 'string' },
    budget: { type: 'string' },
  });
  const seed = args.seed === undefined ? 42 : Number(args.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer; got ${args.seed}`);
  const budget = parseBudget(args.budget);
  const suite = benchmarkSuite(args.data ?? LABELLED_DATA_DIR, { seed, budget });
  const known = suite.flatMap((group) => group.datasets);
  const only = args.only?.split(',');
  const unknown = only?.filter((n) => !known.includes(n)) ?? [];
  if (unknown.length > 0) {
    throw new UsageError(`unknown dataset ${unknown.join(', ')}; known: ${known.join(', ')}`);
  }
  const results: DatasetFigures[] = [];
  const started = performance.now();
  for (const group of suite) {
    if (only && !group.datasets.some((d) => only.includes(d))) continue;
    for (const figures of await group.run())
      if (!only || only.includes(figures.dataset)) results.push(figures);
  }
  console.error(`benchmarked in ${Math.round(performance.now() - started)} ms`);
  console.log(formatTable(results));
  console.log(JSON.stringify({ datasets: results }));
});
