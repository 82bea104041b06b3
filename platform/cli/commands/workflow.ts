import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../deploy/args.ts';
import { renderWorkflow } from '../../deploy/workflow.ts';
import { WiringInvariantError } from '../../wiring/index.ts';
import type { CliCommand, CommandContext } from '../command.ts';
import type { DeclaredPlatform } from '../declaration.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { buildsFromPackage, imageBuilds, repositoryModelArtifactDir } from '../image-builds.ts';
import { CLI_NAME } from '../package-root.ts';

/** Where the workflow is written, relative to the repository. */
export const WORKFLOW_FILE = '.github/workflows/deploy.yml';

const USAGE = `usage: workflow [--output FILE | --stdout] [--check]

Writes the GitHub Actions workflow (${WORKFLOW_FILE} in the repository) that tests, builds and pushes
exactly the declaration's images, and promotes the release through its stages (each rolled out and
judged by the anomaly gate before the next; a protected stage waits for its reviewers).

options:
  --output FILE   write here instead (relative to the current directory)
  --stdout        print it instead of writing it
  --check         write nothing; exit 1 when the file differs from what would be written`;

/** The workflow text for a declaration: the one function the command and the tests call. */
export function workflowFor(declared: DeclaredPlatform): string {
  const delivery = declared.wiring.delivery;
  // The command refuses a declaration without delivery first, with its fix.
  if (!delivery)
    throw new WiringInvariantError(declared.wiring.platform, 'a workflow needs the declared delivery');
  return renderWorkflow({
    // Every stage, in promotion order, whichever environment the entry derived the wiring for.
    delivery,
    builds: imageBuilds(declared, 'repository'),
    modelArtifactDir: repositoryModelArtifactDir(declared),
    installsPackage: buildsFromPackage(declared),
    tests: testCommands(declared.root),
    cli: `npx ${CLI_NAME}`,
  });
}

/**
 * What the test job runs: the repository's own `npm test` when it has one; otherwise the declaration's
 * own checks (synth with its policy gate, and preflight), so a repository without tests still gates
 * every release on a declaration that renders.
 */
function testCommands(root: string): string[] {
  const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  if (manifest.scripts?.test) return ['npm test'];
  return [`npx ${CLI_NAME} synth`, `npx ${CLI_NAME} preflight`];
}

/** `workflow`: renders the delivery workflow from the declaration's wiring and stages. */
export const workflowCommand: CliCommand = {
  name: 'workflow',
  summary:
    "write the GitHub Actions workflow that tests, builds, pushes and rolls out the declaration's images",
  help: () => USAGE,
  needsDeclaration: () => true,
  environment: 'declared',
  async run({ args, out, err, declared }: CommandContext): Promise<number> {
    let values: { output?: string; stdout?: boolean; check?: boolean };
    try {
      ({ values } = parseArgs({
        args: [...args],
        strict: true,
        options: { output: { type: 'string' }, stdout: { type: 'boolean' }, check: { type: 'boolean' } },
      }));
    } catch (error) {
      err(`workflow: ${(error as Error).message}\n\n${USAGE}`);
      return EXIT_CODES.usage;
    }
    if (!declared!.wiring.delivery) {
      err(
        `workflow: ${declared!.wiring.platform}: delivery is not declared, and the workflow's jobs assume the roles the bootstrap stack creates for it. Fix: declare delivery: { githubRepository: 'OWNER/NAME' } in the Platform's props`,
      );
      return EXIT_CODES.usage;
    }
    let text: string;
    try {
      text = workflowFor(declared!);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      err(`workflow: ${error.message}`);
      return EXIT_CODES.usage;
    }
    if (values.stdout) {
      out(text.replace(/\n$/, ''));
      return EXIT_CODES.ok;
    }
    const file = values.output ? resolve(values.output) : resolve(declared!.root, WORKFLOW_FILE);
    if (values.check) {
      if (existsSync(file) && readFileSync(file, 'utf8') === text) {
        out(`workflow: ${file} is what the declaration gives`);
        return EXIT_CODES.ok;
      }
      err(`workflow: ${file} differs from what the declaration gives. Fix: run ${CLI_NAME} workflow`);
      return EXIT_CODES.failed;
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    out(`workflow: wrote ${file}`);
    return EXIT_CODES.ok;
  },
};
