import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { declarePlatform } from '../../../config/declaration.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { PACKAGE_ROOT } from '../package-root.ts';

/**
 * The package's own images (sidecar, log router, and the operations console's web server and API)
 * build in a team's repository from the installed package (`berth images`, the workflow's images job):
 * every file their Dockerfiles copy from the build context must be in what `npm pack` ships.
 */

/** The sources of each `COPY`/`ADD` from the build context (not `--from` another stage), globs as written. */
function copiedSources(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => /^\s*(COPY|ADD)\s/i.test(line) && !/--from=/.test(line))
    .flatMap((line) => {
      const words = line
        .trim()
        .split(/\s+/)
        .slice(1)
        .filter((w) => !w.startsWith('--'));
      return words.slice(0, -1);
    });
}

describe('the package ships what its own images copy', () => {
  const packed: string[] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  )[0].files.map((f: { path: string }) => f.path);
  const platformImages = wirePlatform(declarePlatform().synth()).images.filter(
    (i) => i.source === 'platform',
  );

  test('the wiring names the sidecar, the log router and the console’s two images (`frontend`, its API `backend` here) as the package’s images', () => {
    assert.deepEqual(platformImages.map((i) => i.name).sort(), [
      'backend',
      'frontend',
      'log-router',
      'sidecar',
    ]);
  });

  for (const image of platformImages) {
    test(`${image.name}: its Dockerfile and every source it copies are packed (a glob may match nothing)`, () => {
      assert.ok(packed.includes(image.dockerfile), `${image.dockerfile} is packed`);
      const sources = copiedSources(readFileSync(join(PACKAGE_ROOT, image.dockerfile), 'utf8'));
      assert.ok(sources.length > 0, 'the Dockerfile copies something');
      const missing = sources.filter(
        (source) =>
          !source.includes('*') &&
          !packed.some((file) => file === source || file.startsWith(`${source.replace(/\/$/, '')}/`)),
      );
      assert.deepEqual(missing, []);
    });
  }
});
