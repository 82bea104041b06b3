import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CliCommand, CommandContext } from '../command.ts';
import { DEFAULT_DECLARATION } from '../declaration.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { CLI_NAME, PACKAGE_NAME } from '../package-root.ts';
import {
  declarationSource,
  EXAMPLE_SERVICE,
  findDockerfiles,
  platformNameOf,
  proposeServices,
} from '../scaffold.ts';

const USAGE = `usage: init [--force]

Writes ${DEFAULT_DECLARATION} for the repository in the current directory: one service per Dockerfile
found (a web service when it EXPOSEs a port, an internal one otherwise), the model endpoint that scores
their logs, and .local/ and cdk.out/ in .gitignore. With no Dockerfile, it writes a minimal example
service (web/Dockerfile, web/server.mjs) too. The result passes synth, preflight and start unedited.

  --force   overwrite an existing ${DEFAULT_DECLARATION}

Exit codes: 0 written; 2 a declaration exists already (without --force), or a bad argument.`;

/** `init`: a declaration that works, from what the repository already has. */
export const initCommand: CliCommand = {
  name: 'init',
  summary: "write a declaration for this repository's Dockerfiles (or an example service)",
  help: () => USAGE,
  needsDeclaration: () => false,
  async run({ args, out, err }: CommandContext): Promise<number> {
    const unknown = args.filter((a) => a !== '--force');
    if (unknown.length > 0) {
      err(`init: unknown argument ${unknown[0]}\n\n${USAGE}`);
      return EXIT_CODES.usage;
    }
    const root = process.cwd();
    const target = join(root, DEFAULT_DECLARATION);
    if (existsSync(target) && !args.includes('--force')) {
      err(
        `init: ${DEFAULT_DECLARATION} exists already. Fix: edit it, or run init --force to replace it with a fresh proposal.`,
      );
      return EXIT_CODES.usage;
    }
    let dockerfiles = findDockerfiles(root);
    if (dockerfiles.length === 0) {
      for (const [path, text] of Object.entries(EXAMPLE_SERVICE.files)) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
        out(`init: wrote ${path} (an example service: no Dockerfile found)`);
      }
      dockerfiles = [EXAMPLE_SERVICE.dockerfile];
    }
    const services = proposeServices(root, dockerfiles, 'app');
    if (!services.some((s) => s.kind === 'web')) {
      // The ALB needs a public service: the first one becomes web, on the port it will be given.
      const first = services[0]!;
      services[0] = { ...first, kind: 'web', paths: ['/*'] };
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, declarationSource(platformNameOf(root), services, PACKAGE_NAME));
    for (const s of services) {
      out(
        `init: ${s.kind === 'web' ? 'web service' : 'internal service'} ${s.name} from ${s.dockerfile}, port ${s.port}` +
          (s.kind === 'web' ? ` at ${s.paths[0]}` : ''),
      );
    }
    ignoreOutputs(root);
    out(`init: wrote ${DEFAULT_DECLARATION}. Next:`);
    out(`  npx ${CLI_NAME} synth       # CloudFormation into cdk.out/, policy-checked`);
    out(`  npx ${CLI_NAME} preflight   # what a first deploy would hit, offline`);
    out(`  npx ${CLI_NAME} start       # every service on this machine, its logs scored; Ctrl-C stops`);
    return EXIT_CODES.ok;
  },
};

/** The run's and synth's outputs are not sources: list them in .gitignore once. */
function ignoreOutputs(root: string): void {
  const file = join(root, '.gitignore');
  const present = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  const missing = ['.local/', 'cdk.out/'].filter((line) => !present.includes(line));
  if (missing.length === 0) return;
  const separator = present.length > 0 && present.at(-1) !== '' ? '\n' : '';
  appendFileSync(file, `${separator}${missing.join('\n')}\n`);
}
