import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CliCommand, CommandContext } from '../command.ts';
import { missingDeclaredFile, modelRootOf } from '../declared-files.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { unfitImages } from '../image-fit.ts';

const USAGE = `usage: synth [--env NAME]

  --env NAME            the declared environment to render (else PLATFORM_ENVIRONMENT, else the first
                        declared); its stacks are <platform>-NAME-bootstrap and <platform>-NAME-platform

Renders the declaration into cdk.out/ (CloudFormation for the bootstrap and platform stacks, plus the
platform manifest, platform-manifest.json) and runs the policy gate (cdk-nag, cfn-guard). Needs no AWS
account.

environment:
  CDK_OUTDIR            cloud assembly directory (default cdk.out)
  CDK_DEFAULT_REGION    region of the stacks (else AWS_REGION, else us-east-1)
  CDK_DEFAULT_ACCOUNT   account of the stacks (default: none, an account-free synth)
  PLATFORM_DOMAIN       the console's domain when the declaration names none

Exit codes: 0 synthesised with no unacknowledged finding; 1 an unacknowledged cdk-nag / cfn-guard
finding; 2 a bad declaration (its message alone on stderr: the construct path, the value, the fix).`;

/** `synth`: the AWS renderer. The only place the environment's account and region are read. */
export const synthCommand: CliCommand = {
  name: 'synth',
  summary: 'render CloudFormation into cdk.out/ and run the policy gate',
  help: () => USAGE,
  needsDeclaration: () => true,
  environment: 'declared',
  async run({ args, env, out, err, declared }: CommandContext): Promise<number> {
    if (args.length > 0) {
      err(`synth: unknown argument ${args[0]}\n\n${USAGE}`);
      return EXIT_CODES.usage;
    }
    const { manifest, wiring } = declared!;
    const missing = missingDeclaredFile(declared!);
    if (missing) {
      err(missing);
      return EXIT_CODES.usage;
    }
    // It synthesises anyway: the image may fit; preflight refuses it until the declaration says so.
    for (const line of unfitImages(wiring)) err(`warning: ${line}`);
    // Deterministic default region; no default account, so the synth is account-agnostic.
    const region = env.CDK_DEFAULT_REGION ?? env.AWS_REGION ?? 'us-east-1';
    const account = env.CDK_DEFAULT_ACCOUNT;
    const domainName = env.PLATFORM_DOMAIN;
    // The AWS renderer (aws-cdk-lib, seconds to load) only when synth runs: not for `start` or `--help`.
    const [
      { createPlatformApp, PLATFORM_MANIFEST_FILE },
      { DOMAIN_CONTEXT_KEY },
      { formatFindings, unacknowledgedFindings },
    ] = await Promise.all([
      import('../../aws/app.ts'),
      import('../../aws/constructs/edge.ts'),
      import('../../aws/validation.ts'),
    ]);
    const { app } = createPlatformApp({
      wiring,
      modelRoot: modelRootOf(declared!),
      outdir: resolve(declared!.root, env.CDK_OUTDIR ?? 'cdk.out'),
      env: account ? { account, region } : { region },
      ...(domainName ? { context: { [DOMAIN_CONTEXT_KEY]: domainName } } : {}),
    });
    let assembly: ReturnType<typeof app.synth>;
    try {
      assembly = app.synth();
    } catch (error) {
      // The policy gate throws when a finding is left; its report names each one (no stack trace).
      const outdir = app.outdir;
      if (existsSync(join(outdir, 'validation-report.json'))) {
        err(formatFindings(unacknowledgedFindings(outdir)));
        return EXIT_CODES.failed;
      }
      throw error;
    }
    // Not `manifest.json`: that name is the cloud assembly's own manifest, which `cdk deploy` reads.
    writeFileSync(join(assembly.directory, PLATFORM_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const findings = unacknowledgedFindings(assembly.directory);
    if (findings.length > 0) {
      err(formatFindings(findings));
      return EXIT_CODES.failed;
    }
    out(
      `synth: ${assembly.stacks.map((s) => s.stackName).join(', ')} → ${assembly.directory} (0 unacknowledged findings)`,
    );
    return EXIT_CODES.ok;
  },
};
