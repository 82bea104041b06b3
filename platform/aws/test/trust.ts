import type { Template } from 'aws-cdk-lib/assertions';
import type { Json } from '../../../test/support/template-json.ts';

/** Actions that let a principal change what runs: register task definitions, update services, pass roles. */
export const ROLLOUT_ACTIONS = ['ecs:RegisterTaskDefinition', 'ecs:UpdateService', 'iam:PassRole'];

/**
 * Every role the template lets GitHub's OIDC provider assume, with its trusted subjects and whether its
 * policies allow any rollout action. Shared with the stack-level check.
 */
export function githubTrustedRoles(
  template: Template,
): Array<{ id: string; subjects: string[]; canRollOut: boolean }> {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const roles: Array<{ id: string; subjects: string[]; canRollOut: boolean }> = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const statements = resource.Properties.AssumeRolePolicyDocument.Statement as Json[];
    const github = statements.filter((st) => st.Action === 'sts:AssumeRoleWithWebIdentity');
    if (github.length === 0) continue;
    const subjects = github.flatMap((st) => {
      const conditions = { ...st.Condition?.StringEquals, ...st.Condition?.StringLike };
      const sub = conditions['token.actions.githubusercontent.com:sub'];
      return sub === undefined ? ['(any subject)'] : [sub].flat();
    });
    const actions = Object.values(resources)
      .filter(
        (p) =>
          p.Type === 'AWS::IAM::Policy' &&
          (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: id })),
      )
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((st) => st.Effect === 'Allow')
      .flatMap((st) => [st.Action].flat() as string[]);
    const grants = (wanted: string) =>
      actions.some(
        (a) => a === '*' || a === wanted || (a.endsWith('*') && wanted.startsWith(a.slice(0, -1))),
      );
    roles.push({ id, subjects, canRollOut: ROLLOUT_ACTIONS.some(grants) });
  }
  return roles;
}

/** Roles that can roll out while trusting anything but a protected-environment subject. */
export function branchTrustedRolloutRoles(template: Template): string[] {
  return githubTrustedRoles(template)
    .filter(
      (r) =>
        r.canRollOut &&
        r.subjects.some((sub) => !/^repo:[^:]+:environment:[^:*]+:job_workflow_ref:[^*]+$/.test(sub)),
    )
    .map((r) => r.id);
}
