import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../cli.ts';
import { EXIT_CODES } from '../exit-codes.ts';

/**
 * The environment is chosen once, in the one entry: `--env NAME`, else PLATFORM_ENVIRONMENT, and the
 * wiring is derived for it. `start` runs the local environment only.
 */

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
const SHOP = fixture('shop-environments.declaration.ts');
const PLAIN = fixture('shop.declaration.ts');

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('choosing the environment', () => {
  it('renders the environment --env names, else PLATFORM_ENVIRONMENT (the flag wins)', async () => {
    const flagged = await cli(['manifest', '--env', 'production', '--declaration', SHOP], {
      PLATFORM_ENVIRONMENT: 'staging',
    });
    assert.equal(flagged.code, EXIT_CODES.ok, flagged.err);
    const production = JSON.parse(flagged.out);
    assert.deepEqual(production.environment, { name: 'production', protected: true });
    assert.equal(production.platform.capacity.maxInstances, 12);
    const variable = await cli(['manifest', `--declaration=${SHOP}`], { PLATFORM_ENVIRONMENT: 'staging' });
    assert.equal(variable.code, EXIT_CODES.ok, variable.err);
    assert.deepEqual(JSON.parse(variable.out).environment, { name: 'staging', protected: false });
    assert.deepEqual(JSON.parse(variable.out).environments, [
      { name: 'staging', protected: false },
      { name: 'production', protected: true },
    ]);
  });

  it('renders the first environment in promotion order when none is chosen, and says so', async () => {
    const { code, out, err } = await cli(['manifest', '--declaration', SHOP]);
    assert.equal(code, EXIT_CODES.ok, err);
    assert.equal(JSON.parse(out).environment.name, 'staging');
    assert.equal(
      err,
      'environment staging (the first of staging, production; --env NAME or PLATFORM_ENVIRONMENT chooses)',
    );
  });

  it('refuses an environment the declaration does not declare, exit 2, its message alone', async () => {
    const { code, out, err } = await cli(['synth', '--env', 'prod', '--declaration', SHOP]);
    assert.equal(code, EXIT_CODES.usage);
    assert.equal(out, '');
    assert.equal(
      err,
      `shop: environment ('prod') is not declared. Fix: choose one of staging, production (--env or PLATFORM_ENVIRONMENT), or declare it in new Platform(app, 'shop', { environments }).`,
    );
    // deploy (and its image flags) takes the environment from the same entry, before any AWS client.
    for (const argv of [
      ['deploy', '--image', 'orders=r/x:1', '--env', 'prod', '--declaration', SHOP],
      ['deploy', '--env=prod', '--dry-run', '--image', 'orders=r/x:1', '--declaration', SHOP],
    ]) {
      const deploy = await cli(argv);
      assert.equal(deploy.code, EXIT_CODES.usage);
      assert.equal(deploy.out, '');
      assert.equal(
        deploy.err,
        `shop: environment ('prod') is not declared. Fix: choose one of staging, production (--env or PLATFORM_ENVIRONMENT), or declare it in new Platform(app, 'shop', { environments }).`,
      );
    }
    // A declaration without environments has none to choose.
    const plain = await cli(['preflight', '--env', 'staging', '--declaration', PLAIN]);
    assert.equal(plain.code, EXIT_CODES.usage);
    assert.equal(
      plain.err,
      `shop: environment ('staging') is not declared. Fix: declare environments in new Platform(app, 'shop', { environments: { staging: {} } }), or choose none.`,
    );
  });

  it("keeps 'local' for start, and start for the local environment", async () => {
    const synth = await cli(['synth', '--env', 'local', '--declaration', SHOP]);
    assert.equal(synth.code, EXIT_CODES.usage);
    assert.equal(
      synth.err,
      `shop: environment ('local') is the one start runs, not one to deploy. Fix: choose one of staging, production (--env or PLATFORM_ENVIRONMENT).`,
    );
    const start = await cli(['start', '--declaration', SHOP], { PLATFORM_ENVIRONMENT: 'production' });
    assert.equal(start.code, EXIT_CODES.usage);
    assert.equal(
      start.err,
      `shop: environment ('production') is deployed, not run here: start runs the local environment (the declaration without any environment's overrides). Fix: leave out --env and PLATFORM_ENVIRONMENT, or pass --env local.`,
    );
  });

  it('refuses --env without a name, and --env on a command that takes none', async () => {
    const bare = await cli(['synth', '--env']);
    assert.equal(bare.code, EXIT_CODES.usage);
    assert.match(bare.err, /^--env needs an environment's name\n/);
    const fault = await cli(['fault', '--env', 'staging']);
    assert.equal(fault.code, EXIT_CODES.usage);
    assert.match(fault.err, /^fault takes no --env/);
  });
});
