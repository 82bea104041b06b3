import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { EXIT_CODES } from '../exit-codes.ts';
import {
  cliIn,
  PACKAGE_NAME,
  type TeamRepository,
  teamRepository,
  webDeclaration,
} from './team-repository.ts';

/**
 * A team's declaration, in its own repository outside this one: it loads whatever the team's
 * package.json says, with the library's own `App`, and every way it can fail to load is one line naming
 * the cause and the fix, exit 2.
 */

const cli = cliIn;

/** One line, naming a fix, no stack trace. */
function assertOneLineFix(err: string): void {
  assert.equal(err.split('\n').length, 1, err);
  assert.match(err, /Fix: /);
  assert.doesNotMatch(err, /\n\s+at /);
}

const repositories: TeamRepository[] = [];
const repository = (options?: Parameters<typeof teamRepository>[0]) => {
  const repo = teamRepository(options);
  repositories.push(repo);
  return repo;
};
after(() => {
  for (const r of repositories) r.remove();
});

describe("a team's declaration outside this repository", () => {
  it('loads an ESM TypeScript declaration from a CommonJS package (npm init), with the library App', async () => {
    const repo = repository();
    const file = repo.write('config/declaration.ts', webDeclaration({ platform: 'shop' }));
    const { code, out, err } = await cli(['manifest', '--declaration', file]);
    assert.equal(code, EXIT_CODES.ok, err);
    assert.equal(JSON.parse(out).platform.name, 'shop');
  });

  it('renders the environment --env names of a JavaScript declaration, and refuses its override of the network', async () => {
    const repo = repository({ type: 'module' });
    const declaration = (production: string) =>
      webDeclaration({ platform: 'shop' }).replace(
        "{ capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } }",
        `{ capacity: { instanceTypes: ['t3.medium', 't3a.medium'] }, environments: { staging: {}, production: ${production} } }`,
      );
    const file = repo.write(
      'config/declaration.js',
      declaration('{ protected: true, capacity: { maxInstances: 9 } }'),
    );
    const good = await cli(['manifest', '--env', 'production', '--declaration', file]);
    assert.equal(good.code, EXIT_CODES.ok, good.err);
    const manifest = JSON.parse(good.out);
    assert.deepEqual(manifest.environment, { name: 'production', protected: true });
    assert.equal(manifest.platform.capacity.maxInstances, 9);
    // JavaScript has no type to stop it: the library refuses what environments may not differ in.
    // Another file: a module once imported stays loaded in this process.
    const badFile = repo.write('config/bad.declaration.js', declaration('{ network: { natGateways: 1 } }'));
    const bad = await cli(['manifest', '--env', 'production', '--declaration', badFile]);
    assert.equal(bad.code, EXIT_CODES.usage);
    assertOneLineFix(bad.err);
    assert.match(
      bad.err,
      /^shop: environments\.production\.network \(\{"natGateways":1\}\) is not overridable/,
    );
  });

  it('loads an ESM JavaScript declaration from the default place in the current directory', async () => {
    const repo = repository();
    repo.write('config/declaration.js', webDeclaration({ platform: 'jsshop' }));
    const { code, out, err } = await cli(['manifest', '--declaration', 'config/declaration.js'], repo.root);
    assert.equal(code, EXIT_CODES.ok, err);
    assert.equal(JSON.parse(out).platform.name, 'jsshop');
  });

  it('loads from a package that says "type": "module" too', async () => {
    const repo = repository({ type: 'module' });
    const file = repo.write('config/declaration.ts', webDeclaration({ platform: 'modshop' }));
    const { code, out, err } = await cli(['manifest', '--declaration', file]);
    assert.equal(code, EXIT_CODES.ok, err);
    assert.equal(JSON.parse(out).platform.name, 'modshop');
  });

  it('refuses a CommonJS declaration, naming the fix, exit 2', async () => {
    const repo = repository();
    for (const [name, text] of [
      ['config/declaration.ts', `const { App } = require('${PACKAGE_NAME}');\nmodule.exports = new App();\n`],
      [
        'config/declaration.cjs',
        `const { App } = require('${PACKAGE_NAME}');\nmodule.exports = new App();\n`,
      ],
    ] as const) {
      const file = repo.write(name, text);
      const { code, err } = await cli(['manifest', '--declaration', file]);
      assert.equal(code, EXIT_CODES.usage, err);
      assertOneLineFix(err);
      assert.match(err, /is a CommonJS module/);
      assert.match(err, /Fix: write it as an ES module/);
    }
  });

  it('names the real cause of a load failure: a missing package, an error the declaration throws', async () => {
    const repo = repository();
    const missing = repo.write(
      'config/missing.ts',
      "import { thing } from 'not-installed-anywhere';\nexport default thing;\n",
    );
    const one = await cli(['manifest', '--declaration', missing]);
    assert.equal(one.code, EXIT_CODES.usage, one.err);
    assertOneLineFix(one.err);
    assert.match(one.err, /cannot find package 'not-installed-anywhere'/i);
    assert.match(one.err, /Fix: npm install not-installed-anywhere/);

    const throws = repo.write(
      'config/throws.ts',
      'const settings: { region?: { name: string } } = {};\nexport default settings.region!.name;\n',
    );
    const two = await cli(['manifest', '--declaration', throws]);
    assert.equal(two.code, EXIT_CODES.usage, two.err);
    assertOneLineFix(two.err);
    assert.match(two.err, /TypeError: Cannot read properties of undefined \(reading 'name'\)/);
    assert.match(two.err, /throws\.ts:2/);
  });

  it("resolves a declared Dockerfile against the team's repository: a missing one stops synth, preflight and start, exit 2", async () => {
    const repo = repository();
    const file = repo.write('config/declaration.ts', webDeclaration({ dockerfile: 'web/Dockerfile' }));
    for (const command of ['synth', 'preflight', 'start']) {
      // Run from elsewhere: the repository is the declaration's, not the current directory.
      const { code, err } = await cli([command, '--declaration', file]);
      assert.equal(code, EXIT_CODES.usage, `${command}: ${err}`);
      assertOneLineFix(err);
      assert.equal(
        err,
        `shop/web: image Dockerfile ('web/Dockerfile') does not exist in the repository (${repo.root}). ` +
          'Fix: create it there, or correct the path in Image.fromDockerfile (relative to the folder of package.json).',
      );
    }
  });
});
