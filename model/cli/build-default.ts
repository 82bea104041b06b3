import { createHash } from 'node:crypto';
import { writeArtifact } from '../core/artifact-io.ts';
import { DEFAULT_MODEL_DIR } from '../core/model.ts';
import { trainOnLines } from '../core/train.ts';
import { normalCorpus } from './corpus.ts';
import { platformCorpus } from './platform-corpus.ts';

/**
 * Rebuilds the shipped default artifact (model/artifacts/default) from the project's own generated
 * log lines, seeded, so the same commit always produces the same bytes: the application-style corpus
 * (`corpus.ts`) merged in time order with the platform's own runtime output (`platform-corpus.ts`), so
 * what a healthy platform prints is known and stays quiet.
 */
const CORPUS_LINES = 6000;
const PLATFORM_LINES = 3000;
const timed = normalCorpus(CORPUS_LINES, 7).map((line) => ({ t: Date.parse(line.slice(0, 24)), line }));
const lines = [...timed, ...platformCorpus(PLATFORM_LINES, 8)]
  .map((entry, i) => ({ ...entry, i }))
  // Stable on equal times: the corpus's own order decides.
  .sort((a, b) => a.t - b.t || a.i - b.i)
  .map((entry) => entry.line);
const dataSha256 = createHash('sha256').update(lines.join('\n')).digest('hex');
const trained = await trainOnLines(lines, {
  name: 'log-anomaly-default',
  version: `1.${dataSha256.slice(0, 12)}`,
  seed: 42,
  dataSha256,
  format: 'lines',
});
const files = await writeArtifact(DEFAULT_MODEL_DIR, trained);
console.log(JSON.stringify({ files, lines: lines.length, ...trained.metadata.trainingMetrics }));
