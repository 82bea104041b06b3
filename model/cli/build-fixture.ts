import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labelledFixture } from './corpus.ts';

/** Regenerates model/test/fixtures/platform-2k.log (seeded; the committed file is its output). */
const path = fileURLToPath(new URL('../test/fixtures/platform-2k.log', import.meta.url));
writeFileSync(path, labelledFixture(2000, 11));
console.log(path);
