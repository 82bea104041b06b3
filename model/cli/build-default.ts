import { createHash } from 'node:crypto';
import { writeArtifact } from '../core/artifact-io.ts';
import { DEFAULT_MODEL_DIR } from '../core/model.ts';
import { trainOnLines } from '../core/train.ts';
import { normalCorpus } from './corpus.ts';

/**
 * Rebuilds the shipped default artifact (model/artifacts/default) from the project's own generated
 * log lines, seeded, so the same commit always produces the same bytes.
 */
const CORPUS_LINES = 6000;
const lines = normalCorpus(CORPUS_LINES, 7);
const dataSha256 = createHash('sha256').update(lines.join('\n')).digest('hex');
const trained = await trainOnLines(lines, {
  name: 'log-anomaly-default',
  version: `1.${dataSha256.slice(0, 12)}`,
  seed: 42,
  dataSha256,
  format: 'lines',
});
const files = await writeArtifact(DEFAULT_MODEL_DIR, trained);
console.log(JSON.stringify({ files, lines: CORPUS_LINES, ...trained.metadata.trainingMetrics }));
