import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EXIT_CODES as DEPLOY_EXIT_CODES } from '../../deploy/args.ts';
import { COMMANDS, runCli } from '../cli.ts';
import { EXIT_CODES } from '../exit-codes.ts';

/** The entry in-process: the table, the help, the declaration flag and the exit codes. */

/** The command a team types: the package's one `bin`. */
const BIN = Object.keys(
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).bin,
)[0];

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('platform CLI', () => {
  it('lists every command with its summary and the exit codes under --help', async () => {
    const { code, out } = await cli(['--help']);
    assert.equal(code, EXIT_CODES.ok);
    const lines = out.split('\n');
    for (const command of COMMANDS) {
      assert.ok(
        lines.some((l) => l.startsWith(`  ${command.name} `) && l.endsWith(`  ${command.summary}`)),
        command.name,
      );
    }
    assert.match(
      out,
      /Exit codes: 0 done, 1 failed .*, 2 bad declaration or usage .*, 124 timed out, 130 interrupted\./,
    );
  });

  it("prints a command's own help without loading the declaration (deploy --local its rehearsal's)", async () => {
    const local = await cli(['deploy', '--local', '-h']);
    assert.equal(local.code, EXIT_CODES.ok);
    assert.match(local.out, /^Usage: npm run deploy -- --local --service NAME/);
    // The declaration named would fail to load: --help must not get that far.
    for (const command of COMMANDS) {
      const { code, out, err } = await cli([command.name, '--help', '--declaration', 'config/nope.ts']);
      assert.equal(code, EXIT_CODES.ok, `${command.name}: ${err}`);
      assert.equal(out, command.help([]));
    }
  });

  it('refuses no command, an unknown one and a --declaration without a file, exit 2', async () => {
    const none = await cli([]);
    assert.equal(none.code, EXIT_CODES.usage);
    assert.match(none.err, new RegExp(`^usage: ${BIN} <command>`));
    const unknown = await cli(['launch']);
    assert.equal(unknown.code, EXIT_CODES.usage);
    assert.match(
      unknown.err,
      new RegExp(`^unknown command 'launch'; commands: ${COMMANDS.map((c) => c.name).join(', ')}\n`),
    );
    const bare = await cli(['synth', '--declaration']);
    assert.equal(bare.code, EXIT_CODES.usage);
    assert.match(bare.err, /^--declaration needs a file\n/);
  });

  it('reads --declaration before PLATFORM_DECLARATION, and prints a bad one alone, exit 2', async () => {
    const bad = await cli(['manifest', '--declaration', fixture('bad-scaling.declaration.ts')], {
      PLATFORM_DECLARATION: fixture('no-web-service.declaration.ts'),
    });
    assert.equal(bad.code, EXIT_CODES.usage);
    assert.equal(bad.err, 'acme/backend: scaling.min (0) must be ≥ 1. Fix: set scaling.min to 1 or more.');
    assert.equal(bad.out, '');
    const good = await cli(['manifest'], {});
    assert.equal(good.code, EXIT_CODES.ok, good.err);
    assert.equal(JSON.parse(good.out).platform.name, 'acme');
  });

  it('has one exit-code table: the deploy command returns the same values', () => {
    for (const [name, value] of Object.entries(DEPLOY_EXIT_CODES)) {
      assert.equal(EXIT_CODES[name as keyof typeof EXIT_CODES], value, name);
    }
  });
});
