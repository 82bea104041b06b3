import { evaluateLines, evaluateSessions } from '../core/evaluate.ts';
import type { DetectionMetrics } from '../core/metrics.ts';
import { readLabelledLines, readSessions } from '../data/datasets.ts';
import { parseOptions, runCli, UsageError } from './args.ts';

const USAGE = `usage:
  npm run model:eval -- --format loghub|jsonl --input FILE [--train-fraction 0.5]
  npm run model:eval -- --format sessions --train FILE --test FILE
  Chronological: trains on the normal items of the first part, tests on the rest. The last line of
  output is one JSON object: precision, recall, f1, fpr, ap, rocAuc, threshold, n, anomalies.`;

runCli(USAGE, async () => {
  const args = parseOptions(process.argv.slice(2), {
    format: { type: 'string' },
    input: { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
    'train-fraction': { type: 'string' },
    seed: { type: 'string' },
  });
  const seed = args.seed === undefined ? 42 : Number(args.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer; got ${args.seed}`);
  const started = performance.now();
  let metrics: DetectionMetrics;
  if (args.format === 'sessions') {
    if (!args.train || !args.test)
      throw new UsageError('--format sessions needs --train FILE and --test FILE');
    metrics = await evaluateSessions(readSessions(args.train), readSessions(args.test), { seed });
  } else if (args.format === 'loghub' || args.format === 'jsonl') {
    if (!args.input) throw new UsageError(`--format ${args.format} needs --input FILE`);
    const fraction = args['train-fraction'] === undefined ? 0.5 : Number(args['train-fraction']);
    if (!(fraction > 0 && fraction < 1)) {
      throw new UsageError(`--train-fraction must be a number in (0, 1); got ${args['train-fraction']}`);
    }
    metrics = await evaluateLines(readLabelledLines(args.input, args.format), fraction, { seed });
  } else {
    throw new UsageError(`--format must be loghub, jsonl or sessions; got ${args.format ?? 'nothing'}`);
  }
  console.error(`evaluated in ${Math.round(performance.now() - started)} ms`);
  console.log(JSON.stringify(metrics));
});
