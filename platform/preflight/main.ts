import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPlatformApp } from '../aws/app.ts';
import { synthDeclarationOrExit } from '../declaration.ts';
import { formatReport, preflight } from './checks.ts';
import { renderedFacts } from './rendered.ts';

/**
 * `npm run preflight [-- --trunking]`: offline checks of the rendered platform for what a first deploy
 * or a rollout would hit (see README.md). Needs no AWS account.
 *
 * Exit codes: 0 nothing blocks (warnings allowed); 1 at least one blocker, each named with its fix;
 * 2 a bad declaration (its message alone) or a usage error.
 */

const USAGE = `usage: npm run preflight [-- --trunking]

  --trunking             the account has the ECS awsvpcTrunking setting on (the platform does not set it)
  PLATFORM_DECLARATION   another declaration module to check (default config/declaration.ts)`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--trunking');
if (unknown.length > 0) {
  console.error(`npm run preflight: unknown argument ${unknown[0]}\n\n${USAGE}`);
  process.exit(2);
}

const manifest = await synthDeclarationOrExit();
// Rendered in memory, without bundling the Lambda code: only the template's settings are read.
const outdir = mkdtempSync(join(tmpdir(), 'preflight-'));
let templates: unknown[];
try {
  const { app } = createPlatformApp({
    manifest,
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
const findings = preflight(manifest, renderedFacts(templates), { trunking: args.includes('--trunking') });
console.log(formatReport(manifest.platform.name, findings));
process.exit(findings.some((f) => f.level === 'blocker') ? 1 : 0);
