import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliCommand, CommandContext } from '../command.ts';
import { missingDeclaredFile, modelRootOf } from '../declared-files.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { unfitImages } from '../image-fit.ts';

const USAGE = `usage: npm run preflight [-- --env NAME] [--trunking]

  --env NAME             the declared environment to check (else PLATFORM_ENVIRONMENT, else the first declared)
  --trunking             the account has the ECS awsvpcTrunking setting on (the platform does not set it)
  PLATFORM_DECLARATION   another declaration module to check (default config/declaration.ts)

Exit codes: 0 nothing blocks (warnings allowed); 1 at least one blocker, each named with its fix;
2 a bad declaration (its message alone: a missing Dockerfile, a registry image that declares nothing
of how it runs) or a usage error.`;

/** `preflight`: offline checks of the rendered platform for what a first deploy or a rollout would hit. */
export const preflightCommand: CliCommand = {
  name: 'preflight',
  summary: 'check offline what a first deploy or a rollout would hit',
  help: () => USAGE,
  needsDeclaration: () => true,
  environment: 'declared',
  async run({ args, out, err, declared }: CommandContext): Promise<number> {
    const unknown = args.filter((a) => a !== '--trunking');
    if (unknown.length > 0) {
      err(`npm run preflight: unknown argument ${unknown[0]}\n\n${USAGE}`);
      return EXIT_CODES.usage;
    }
    const { wiring } = declared!;
    const missing = missingDeclaredFile(declared!);
    if (missing) {
      err(missing);
      return EXIT_CODES.usage;
    }
    const unfit = unfitImages(wiring);
    if (unfit.length > 0) {
      err(unfit.join('\n'));
      return EXIT_CODES.usage;
    }
    // The AWS renderer and the checks (aws-cdk-lib, seconds to load) only when preflight runs.
    const [{ createPlatformApp }, { formatReport, preflight }, { renderedFacts }] = await Promise.all([
      import('../../aws/app.ts'),
      import('../../preflight/checks.ts'),
      import('../../preflight/rendered.ts'),
    ]);
    // Rendered in memory, without bundling the Lambda code: only the template's settings are read.
    const outdir = mkdtempSync(join(tmpdir(), 'preflight-'));
    let templates: unknown[];
    try {
      const { app } = createPlatformApp({
        wiring,
        modelRoot: modelRootOf(declared!),
        outdir,
        env: { region: 'us-east-1' },
        validate: false,
        context: {
          'aws:cdk:bundling-stacks': [],
          'aws:cdk:enable-path-metadata': true,
          '@aws-cdk/core:appMode': 'inmemory',
        },
      });
      templates = app.synth().stacks.map((s) => s.template);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
    const findings = preflight(wiring, renderedFacts(templates), { trunking: args.includes('--trunking') });
    out(formatReport(wiring.platform, findings));
    return findings.some((f) => f.level === 'blocker') ? EXIT_CODES.failed : EXIT_CODES.ok;
  },
};
