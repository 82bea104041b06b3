import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Registers the policy gate on `app`: cdk-nag's AwsSolutions pack and cfn-guard with the bundled
 * Control Tower proactive controls. Both run during `app.synth()`; a finding is only ever silenced by
 * `Validations.of(construct).acknowledge({ id, reason })` next to the resource it concerns.
 */
export function addPolicyValidation(app: App): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app),
    new CfnGuardValidator({ maxBuffer: 64 * 1024 * 1024 }),
  );
}

/** One finding left in the validation report after acknowledgements. */
export interface Finding {
  readonly plugin: string;
  readonly rule: string;
  readonly severity: string;
  readonly resource: string;
  readonly description: string;
}

interface ViolationJson {
  ruleName: string;
  description?: string;
  severity?: string;
  violatingConstructs?: Array<{ constructPath?: string; cloudFormationResource?: { logicalId?: string } }>;
}

interface ReportJson {
  pluginReports?: Array<{ pluginName: string; conclusion?: string; violations?: ViolationJson[] }>;
}

/**
 * Reads `validation-report.json` from a cloud assembly and returns every finding left after
 * acknowledgements, of any severity: the gate fails on warnings too, not only on errors.
 */
export function unacknowledgedFindings(assemblyDir: string): Finding[] {
  const file = join(assemblyDir, 'validation-report.json');
  let report: ReportJson;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as ReportJson;
  } catch (error) {
    // No report means the gate did not run: that is a failure, not a pass.
    throw new Error(`policy gate: cannot read ${file}: ${(error as Error).message}`);
  }
  const findings: Finding[] = [];
  for (const plugin of report.pluginReports ?? []) {
    for (const violation of plugin.violations ?? []) {
      const resources = violation.violatingConstructs ?? [];
      for (const resource of resources.length > 0 ? resources : [{}]) {
        findings.push({
          plugin: plugin.pluginName,
          rule: violation.ruleName,
          severity: violation.severity ?? 'unknown',
          resource:
            resource.constructPath ?? resource.cloudFormationResource?.logicalId ?? '(unknown resource)',
          description: violation.description ?? '',
        });
      }
    }
  }
  return findings;
}

/** One line per finding, for the terminal. */
export function formatFindings(findings: readonly Finding[]): string {
  return [
    `policy gate: ${findings.length} unacknowledged finding(s):`,
    ...findings.map((f) => `  ${f.plugin} ${f.rule} [${f.severity}] ${f.resource}: ${f.description}`),
  ].join('\n');
}

/** The cfn-guard plugin's rule namespace in `Validations.acknowledge` ids. */
export const CFN_GUARD = 'cdk-validator-cfnguard';

/** The acknowledgement id of a cfn-guard rule, e.g. `guardRule('s3_bucket_logging_enabled_check')`. */
export function guardRule(name: string): string {
  return `${CFN_GUARD}::${name}`;
}
