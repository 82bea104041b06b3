import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkOneDerivation, productionSources, type SourceTree } from './one-derivation.ts';

/**
 * One entry, one derivation (issue 20): every command loads the declaration and derives the wiring
 * once, in the CLI; the renderers receive the wiring and take no value, and never the manifest, from
 * config/. The second half plants violations in small trees to show each rule failing.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PRODUCTION_ROOTS = ['config', 'contracts', 'platform', 'services', 'functions', 'model', 'scripts'];

/** A planted tree: the repository's real derivation plus the given files. */
function planted(files: Record<string, string>): SourceTree {
  const all: Record<string, string> = {
    'platform/cli/declaration.ts':
      "import { wirePlatform } from '../wiring/index.ts';\nexport const w = wirePlatform(m);\n",
    ...files,
  };
  return { files: Object.keys(all), read: (path) => all[path]! };
}

describe('one entry, one derivation', () => {
  it('holds for this repository: renderers import no config value and wirePlatform is called once, in the CLI', () => {
    const tree = productionSources(ROOT, PRODUCTION_ROOTS);
    // The scan reads something real: every renderer room and the CLI.
    for (const room of [
      'platform/aws/',
      'platform/local/',
      'platform/deploy/',
      'platform/preflight/',
      'platform/cli/',
    ]) {
      assert.ok(
        tree.files.some((f) => f.startsWith(room)),
        `no production file under ${room}`,
      );
    }
    assert.ok(!tree.files.some((f) => f.includes('/test/')), 'tests are not production code');
    assert.deepEqual(checkOneDerivation(tree), []);
  });

  describe('fails on a planted violation', () => {
    it('a renderer importing a value from config/ (the declaration itself)', () => {
      const tree = planted({
        'platform/aws/constructs/planted.ts':
          "import { declarePlatform } from '../../../config/declaration.ts';\nexport const app = declarePlatform();\n",
      });
      assert.deepEqual(checkOneDerivation(tree), [
        {
          file: 'platform/aws/constructs/planted.ts',
          line: 1,
          rule: 'a renderer imports a value from config/declaration.ts; it renders the wiring (platform/wiring) and takes nothing else from config/',
        },
      ]);
    });

    it("a renderer taking the manifest's type (reading the manifest instead of the wiring)", () => {
      const tree = planted({
        'platform/local/planted.ts':
          "import type { Manifest } from '../../config/index.ts';\nexport function plan(m: Manifest) { return m.services; }\n",
      });
      assert.deepEqual(
        checkOneDerivation(tree).map((v) => `${v.file}:${v.line}: ${v.rule}`),
        [
          "platform/local/planted.ts:1: a renderer imports the manifest's type from config/index.ts; it receives PlatformWiring, never the manifest",
        ],
      );
    });

    it('a second wirePlatform call in production code, and a call in the CLI made twice', () => {
      const tree = planted({
        'platform/local/alb.ts':
          "import type { Manifest } from '../../config/index.ts';\nimport { wirePlatform } from '../wiring/index.ts';\n\nexport const rules = (m: Manifest) => wirePlatform(m).routes;\n",
        'platform/cli/declaration.ts':
          "import * as wiring from '../wiring/index.ts';\nconst a = wiring.wirePlatform(m);\nconst b = wiring.wirePlatform(m);\n",
      });
      assert.deepEqual(
        checkOneDerivation(tree).map((v) => `${v.file}:${v.line}`),
        ['platform/cli/declaration.ts:3', 'platform/local/alb.ts:1', 'platform/local/alb.ts:4'],
      );
    });

    it('lets types of the manifest parts through, and ignores tests wiring their own fixtures', () => {
      const tree = planted({
        'platform/aws/constructs/ok.ts':
          "import type { PlatformManifest } from '../../../config/index.ts';\nexport type Edge = PlatformManifest['edge'];\n",
      });
      assert.deepEqual(checkOneDerivation(tree), []);
    });
  });
});
