import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { METADATA_FILE, MODEL_FILE } from './artifact.ts';
import { tarGz } from './tar.ts';
import type { TrainedModel } from './train.ts';

/** The SageMaker model archive's name inside an artifact directory. */
export const ARCHIVE_FILE = 'model.tar.gz';

/**
 * Writes an artifact directory: `model.json` (what scoring loads), `metadata.json` (provenance and
 * metrics) and `model.tar.gz` holding both, as SageMaker's `ModelDataUrl` expects.
 */
export async function writeArtifact(dir: string, trained: TrainedModel): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const model = Buffer.from(`${JSON.stringify(trained.artifact)}\n`);
  const metadata = Buffer.from(`${JSON.stringify(trained.metadata, null, 2)}\n`);
  await writeFile(join(dir, MODEL_FILE), model);
  await writeFile(join(dir, METADATA_FILE), metadata);
  await writeFile(
    join(dir, ARCHIVE_FILE),
    tarGz([
      { name: MODEL_FILE, data: model },
      { name: METADATA_FILE, data: metadata },
    ]),
  );
  return [MODEL_FILE, METADATA_FILE, ARCHIVE_FILE].map((f) => join(dir, f));
}
