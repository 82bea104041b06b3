import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkArrows, formatViolation, ROOMS, roomOf } from './arrows.ts';
import { findCycles, importsOf, productionTree, type SourceTree, specifiersOf } from './import-graph.ts';

/**
 * Arrows point one way (DESIGN.md, Layout): every production file's imports, read with a TypeScript
 * parser, are held to the layout table (arrows.ts), and no import cycle is allowed. The second half of
 * this file plants violations in small source trees to show each rule failing.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Imports against the table that the other half of issue 20 removes (one entry, one derivation; engineer
 * "20-core"). Each must still occur: once one is gone, delete it here, so the list only shrinks.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];
/** Cycles the same work removes, as their sorted files; the same rule: delete an entry once it is gone. */
const KNOWN_CYCLES: readonly string[] = [];

/** The production roots: what tsconfig.json type-checks, less the repository-wide tests. */
function productionRoots(): string[] {
  const tsconfig = JSON.parse(readFileSync(`${ROOT}/tsconfig.json`, 'utf8')) as { include: string[] };
  return tsconfig.include.filter((folder) => folder !== 'test');
}

describe('the repository follows the layout table', () => {
  const tree = productionTree(ROOT, productionRoots());
  const edges = importsOf(tree);

  it('reads every production file (a parse failure or an empty scan fails here)', () => {
    assert.ok(tree.files.length > 150, `${tree.files.length} files`);
    for (const room of ['contracts/', 'runtime/', 'config/', 'platform/wiring/', 'services/', 'functions/']) {
      assert.ok(
        tree.files.some((f) => f.startsWith(room)),
        `no production file under ${room}`,
      );
    }
    assert.ok(edges.length > 500, `${edges.length} imports`);
  });

  it('every production file lies in a room of the table', () => {
    assert.deepEqual(
      tree.files.filter((f) => roomOf(f) === undefined),
      [],
    );
  });

  it('no import against the table, apart from the known ones being removed', () => {
    const found = checkArrows(edges);
    const key = (v: { from: string; to: string }) => `${v.from} -> ${v.to}`;
    const unexpected = found.filter((v) => !KNOWN_VIOLATIONS.includes(key(v))).map(formatViolation);
    assert.deepEqual(unexpected, [], `imports against DESIGN.md's table:\n${unexpected.join('\n')}`);
    const gone = KNOWN_VIOLATIONS.filter((k) => !found.some((v) => key(v) === k));
    assert.deepEqual(gone, [], 'no longer found: delete these from KNOWN_VIOLATIONS');
  });

  it('no import cycle, apart from the known ones being removed', () => {
    const cycles = findCycles(edges).map((c) => c.join(', '));
    assert.deepEqual(
      cycles.filter((c) => !KNOWN_CYCLES.includes(c)),
      [],
      'import cycles (files of each strongly connected set)',
    );
    const gone = KNOWN_CYCLES.filter((k) => !cycles.includes(k));
    assert.deepEqual(gone, [], 'no longer found: delete these from KNOWN_CYCLES');
  });
});

/** A planted source tree: path → source. */
function planted(files: Record<string, string>): SourceTree {
  return { files: Object.keys(files), read: (path) => files[path]! };
}

const violationsOf = (files: Record<string, string>) =>
  checkArrows(importsOf(planted(files))).map(formatViolation);

describe('planted violations fail', () => {
  it('contracts/ importing anything but zod: hono (even for types), Node, another room', () => {
    assert.deepEqual(
      violationsOf({
        'contracts/shape.ts': [
          "import { z } from 'zod';",
          "import type { Context } from 'hono';",
          "import { randomUUID } from 'node:crypto';",
          "import { readEnv } from '../runtime/process.ts';",
        ].join('\n'),
        'runtime/process.ts': 'export const readEnv = 1;',
      }),
      [
        'contracts/shape.ts:2 imports hono (types only): contracts/ may import only the packages zod',
        'contracts/shape.ts:3 imports node:crypto: contracts/ may import only the packages zod',
        'contracts/shape.ts:4 imports runtime/process.ts: contracts/ may not import runtime/ (it may import no other room)',
      ],
    );
  });

  it('runtime/ importing a package other than hono and zod, or a room other than contracts/', () => {
    assert.deepEqual(
      violationsOf({
        'runtime/hono.ts': [
          "import { Hono } from 'hono';",
          "import { bodyLimit } from 'hono/body-limit';",
          "import { z } from 'zod';",
          "import { errorBody } from '../contracts/errors.ts';",
          "import { ECSClient } from '@aws-sdk/client-ecs';",
          "export { parseLogLine } from '../model/features/parse.ts';",
        ].join('\n'),
        'contracts/errors.ts': '',
        'model/features/parse.ts': '',
      }),
      [
        'runtime/hono.ts:5 imports @aws-sdk/client-ecs: runtime/ may import only the packages hono, zod, node:',
        'runtime/hono.ts:6 imports model/features/parse.ts: runtime/ may not import model/ (it may import contracts/)',
      ],
    );
  });

  it('services and functions importing platform/, for values or for types; a service importing another', () => {
    assert.deepEqual(
      violationsOf({
        'services/backend/src/app.ts': [
          "import type { PlatformWiring } from '../../../platform/wiring/types.ts';",
          "import { createFrontendApp } from '../../frontend/server/app.ts';",
          "import { requestLog } from '../../../runtime/request-log.ts';",
        ].join('\n'),
        'functions/predict/core.ts': [
          "import { ScoringClient } from '../../model/client/scoring-client.ts';",
          "const { plan } = await import('../../platform/local/plan.ts');",
        ].join('\n'),
        'platform/wiring/types.ts': '',
        'platform/local/plan.ts': '',
        'services/frontend/server/app.ts': '',
        'runtime/request-log.ts': '',
        'model/client/scoring-client.ts': '',
      }),
      [
        'services/backend/src/app.ts:1 imports platform/wiring/types.ts (types only): services/backend/ may not import platform/wiring/ (it may import runtime/, contracts/, model/client/)',
        'services/backend/src/app.ts:2 imports services/frontend/server/app.ts: services/backend/ may not import services/frontend/ (it may import runtime/, contracts/, model/client/)',
        'functions/predict/core.ts:2 imports platform/local/plan.ts: functions/predict/ may not import platform/local/ (it may import model/, runtime/, contracts/, functions/shared/)',
      ],
    );
  });

  it("a renderer importing a value of config/ (types are allowed), and the library importing the repository's declaration", () => {
    assert.deepEqual(
      violationsOf({
        'platform/aws/constructs/edge.ts': [
          "import type { Manifest } from '../../../config/lib/manifest.ts';",
          "import { DEFAULT_HEALTH } from '../../../config/lib/values.ts';",
        ].join('\n'),
        'platform/wiring/wire.ts': "import { declarePlatform } from '../../config/declaration.ts';",
        'config/lib/manifest.ts': '',
        'config/lib/values.ts': '',
        'config/declaration.ts': '',
      }),
      [
        'platform/aws/constructs/edge.ts:2 imports config/lib/values.ts: platform/aws/ may not import config/ (it may import platform/wiring/, contracts/; types from config/)',
        "platform/wiring/wire.ts:1 imports config/declaration.ts: the library never imports this repository's declaration",
      ],
    );
  });

  it('an import cycle, through a re-export and a type-only import', () => {
    const tree = planted({
      'model/a.ts': "export { b } from './b.ts';",
      'model/b.ts': "import type { C } from './c.ts';\nexport const b = 1;",
      'model/c.ts': "import { a } from './a.ts';\nexport type C = typeof a;",
      'model/d.ts': "import { a } from './a.ts';",
    });
    assert.deepEqual(findCycles(importsOf(tree)), [['model/a.ts', 'model/b.ts', 'model/c.ts']]);
  });
});

describe('the parser finds every form of import', () => {
  it('static, type-only, re-exports, dynamic, import types and require; not strings or comments', () => {
    const source = `
      import a, { b } from './a.ts';
      import type { C } from './c.ts';
      import { type D, type E } from './d.ts';
      import { type F, g } from './f.ts';
      import './side-effect.ts';
      export * from './all.ts';
      export type { H } from './h.ts';
      export {
        i,
      } from './i.ts';
      const lazy = await import('./lazy.ts');
      type T = import('./t.ts').T;
      const r = require('./r.cjs');
      // import { nope } from './comment.ts';
      const text = "import { nope } from './string.ts'";
    `;
    assert.deepEqual(
      specifiersOf(source, 'x.ts').map((s) => `${s.use} ${s.specifier}`),
      [
        'value ./a.ts',
        'type ./c.ts',
        'type ./d.ts',
        'value ./f.ts',
        'value ./side-effect.ts',
        'value ./all.ts',
        'type ./h.ts',
        'value ./i.ts',
        'value ./lazy.ts',
        'type ./t.ts',
        'value ./r.cjs',
      ],
    );
  });

  it('the table names each room once', () => {
    const paths = ROOMS.map((r) => r.path);
    assert.equal(new Set(paths).size, paths.length);
  });
});
