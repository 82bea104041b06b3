import { join, resolve } from 'node:path';
import { DEFAULT_BUDGET, MAX_BUDGET } from '../../contracts/alert-budget.ts';
import { writeArtifact } from '../core/artifact-io.ts';
import { trainOnLines, trainOnSessions } from '../core/train.ts';
import { fileSha256, readLabelledLines, readSessions } from '../data/datasets.ts';
import { parseBudget, parseOptions, runCli, UsageError } from './args.ts';

const USAGE = `usage: npm run model:train -- --format loghub|jsonl|sessions --input FILE --out DIR [--name NAME] [--seed N] [--budget B]
  Trains on the normal (label 0 or unlabelled) items of FILE and writes DIR/<version>/ with
  model.json, metadata.json and model.tar.gz. B is the alert budget (the share of normal items
  the model may flag, at most ${MAX_BUDGET}); default ${DEFAULT_BUDGET}.`;

runCli(USAGE, async () => {
  const args = parseOptions(process.argv.slice(2), {
    format: { type: 'string' },
    input: { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string' },
    seed: { type: 'string' },
    budget: { type: 'string' },
  });
  const { format, input, out } = args;
  if (format !== 'loghub' && format !== 'jsonl' && format !== 'sessions') {
    throw new UsageError(`--format must be loghub, jsonl or sessions; got ${format ?? 'nothing'}`);
  }
  if (!input) throw new UsageError('--input FILE is required');
  if (!out) throw new UsageError('--out DIR is required');
  const seed = args.seed === undefined ? 42 : Number(args.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer; got ${args.seed}`);
  const budget = parseBudget(args.budget);
  const dataSha256 = fileSha256Safe(input);
  const version = `1.${dataSha256.slice(0, 12)}`;
  const options = { name: args.name ?? 'log-anomaly', version, seed, dataSha256, format, budget } as const;
  const started = performance.now();
  const normalSessions = () => readSessions(input).filter((s) => s.label === 0 && s.split !== 'test');
  const trained =
    format === 'sessions'
      ? await (async () => {
          const sessions = normalSessions();
          return trainOnSessions(
            sessions.map((s) => s.events),
            { ...options, sessionIds: sessions.map((s) => s.id) },
          );
        })()
      : await trainOnLines(
          readLabelledLines(input, format)
            .filter((l) => l.label === 0)
            .map((l) => l.line),
          options,
        );
  const dir = resolve(join(out, version));
  await writeArtifact(dir, trained);
  console.error(
    `trained on ${trained.metadata.trainingItems} items in ${Math.round(performance.now() - started)} ms`,
  );
  for (const [unit, applied] of Object.entries(trained.metadata.budget)) {
    if (typeof applied === 'object' && applied.fallback) console.error(`${unit}: ${applied.fallback}`);
  }
  console.log(
    JSON.stringify({ dir, version, ...trained.metadata.trainingMetrics, budget: trained.metadata.budget }),
  );
});

function fileSha256Safe(path: string): string {
  try {
    return fileSha256(path);
  } catch (error) {
    throw new Error(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}
