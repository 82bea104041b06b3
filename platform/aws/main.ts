/**
 * `npm run synth`: renders this repository's declaration into `cdk.out/` (CloudFormation plus the
 * platform manifest, `platform-manifest.json`) and runs the policy gate. Needs no AWS account; the only place the environment is
 * read. `PLATFORM_DECLARATION=path` synthesises another declaration module instead of config/declaration.ts.
 *
 * Exit codes: 0 synthesised with no unacknowledged finding; 1 an unacknowledged cdk-nag / cfn-guard
 * finding; 2 a bad declaration (its message alone on stderr: the construct path, the value, the fix).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { synthDeclarationOrExit } from '../declaration.ts';
import { createPlatformApp, PLATFORM_MANIFEST_FILE } from './app.ts';
import { DOMAIN_CONTEXT_KEY } from './constructs/edge.ts';
import { formatFindings, unacknowledgedFindings } from './validation.ts';

const outdir = process.env.CDK_OUTDIR ?? 'cdk.out';
// Deterministic default region; no default account, so the synth is account-agnostic.
const region = process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION ?? 'us-east-1';
const account = process.env.CDK_DEFAULT_ACCOUNT;
// The console's domain when the declaration names none (edge.domainName); placeholder otherwise.
const domainName = process.env.PLATFORM_DOMAIN;

const manifest = await synthDeclarationOrExit();
const { app } = createPlatformApp({
  manifest,
  outdir,
  env: account ? { account, region } : { region },
  ...(domainName ? { context: { [DOMAIN_CONTEXT_KEY]: domainName } } : {}),
});
const assembly = app.synth();
// Not `manifest.json`: that name is the cloud assembly's own manifest, which `cdk deploy` reads.
writeFileSync(join(assembly.directory, PLATFORM_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

const findings = unacknowledgedFindings(assembly.directory);
if (findings.length > 0) {
  console.error(formatFindings(findings));
  process.exit(1);
}
console.log(
  `synth: ${assembly.stacks.map((s) => s.stackName).join(', ')} → ${assembly.directory} (0 unacknowledged findings)`,
);
