import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { addPolicyValidation, unacknowledgedFindings } from '../validation.ts';
import { synthPlatform } from './builder.ts';

/** Every policy acknowledgement recorded in the tree, as `rule → paths and reasons`. */
function acknowledgements(root: IConstruct): Map<string, { paths: string[]; reasons: string[] }> {
  const found = new Map<string, { paths: string[]; reasons: string[] }>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        // aws-cdk-lib acknowledges some of its own built-in CloudFormation-Validate warnings; not ours.
        if (id.startsWith('CloudFormation-Validate::')) continue;
        const record = found.get(id) ?? { paths: [], reasons: [] };
        record.paths.push(construct.node.path);
        record.reasons.push(reason);
        found.set(id, record);
      }
    }
  }
  return found;
}

describe('Policy gate (cdk-nag AwsSolutions + cfn-guard Control Tower)', () => {
  // GIVEN the real app with both plugins WHEN it is synthesised (once for this file)
  const platform = synthPlatform({ validate: true });
  const assembly = platform.stack.node.root as App;
  const cloudAssembly = assembly.synth();
  after(() => platform.dispose());

  it('leaves zero unacknowledged findings', () => {
    assert.deepEqual(unacknowledgedFindings(cloudAssembly.directory), []);
  });

  it('shows every acknowledgement in the validation report: none is dead, none hidden under another id', () => {
    const report = JSON.parse(
      readFileSync(join(cloudAssembly.directory, 'validation-report.json'), 'utf8'),
    ) as {
      pluginReports: Array<{
        suppressedViolations?: Array<{ acknowledgedAt: string; acknowledgedId: string }>;
      }>;
    };
    const used = new Set(
      report.pluginReports.flatMap((p) =>
        (p.suppressedViolations ?? []).map((v) => `${v.acknowledgedAt} ${v.acknowledgedId}`),
      ),
    );
    const unused = [...acknowledgements(assembly)].flatMap(([id, { paths }]) =>
      paths.filter((path) => !used.has(`${path} ${id}`)).map((path) => `${path} ${id}`),
    );
    assert.deepEqual(unused, []);
  });

  it('acknowledges only the listed rules, each with a specific reason, next to its resource', () => {
    const acks = acknowledgements(assembly);
    const summary = Object.fromEntries([...acks].map(([id, { paths }]) => [id, paths.length]));
    assert.deepEqual(summary, {
      // One for every log group: each is created through PlatformLogging with the declared retention.
      'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check': 1,
      // Capacity
      'cdk-validator-cfnguard::ecs_container_insights_enabled_check': 1,
      'AwsSolutions::AwsSolutions-EC26': 1,
      'cdk-validator-cfnguard::autoscaling_group_nitro_encryption_in_transit_override_check': 1,
      // Edge: the access-log bucket and the internet-facing group
      'AwsSolutions::AwsSolutions-S1': 1,
      'cdk-validator-cfnguard::s3_bucket_logging_enabled_check': 1,
      'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check': 1,
      'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check': 1,
      'AwsSolutions::AwsSolutions-EC23': 1,
      // Edge: no deletion protection on the ALB, so a teardown deletes it (teardown.loadBalancerDeletionProtection)
      'cdk-validator-cfnguard::elbv2_deletion_protection_enabled_check': 1,
      // Services (two task definitions)
      'AwsSolutions::AwsSolutions-ECS2': 2,
      'cdk-validator-cfnguard::ecs_task_definition_nonroot_user_check': 2,
      // Each task definition's intake token (router → sidecar on the task's loopback), not rotated.
      'AwsSolutions::AwsSolutions-SMG4': 2,
      // Actions without resource-level permissions: instance role, backend task role, two execution
      // roles, the endpoint role, predict, log-scorer, the agent policy, remediate (twice), delivery.
      'AwsSolutions::AwsSolutions-IAM5[Resource::*]': 13,
      // Prediction API
      'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]': 1,
      'AwsSolutions::AwsSolutions-APIG4': 1,
      'AwsSolutions::AwsSolutions-COG4': 1,
      'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check': 1,
      // Dead-letter queues (log-scorer, remediate)
      'AwsSolutions::AwsSolutions-SQS3': 2,
      'cdk-validator-cfnguard::sqs_dlq_check': 2,
      // Remediation
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:us-east-1:<AWS::AccountId>:instance/*]': 1,
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:us-east-1:<AWS::AccountId>:alarm:*]': 1,
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:us-east-1:<AWS::AccountId>:service/<CapacityClusterDB0BCD31>/*]': 1,
      // The console's task reads, and remediation's restarts of unhealthy tasks (StopTask, issue 24).
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:us-east-1:<AWS::AccountId>:task/<CapacityClusterDB0BCD31>/*]': 2,
      // Delivery (the bootstrap stack: the platform's cluster by name, its task roles by their path)
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:us-east-1:<AWS::AccountId>:service-deployment/acme/*]': 1,
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/acme/tasks/*]': 1,
      // The deployment gate: its service-revision reads, and the hook role invoking it.
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:us-east-1:<AWS::AccountId>:service-revision/<CapacityClusterDB0BCD31>/*]': 1,
      'AwsSolutions::AwsSolutions-IAM5[Resource::<DeploymentGateFunction0F6C516C.Arn>:*]': 1,
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:us-east-1:<AWS::AccountId>:container-instance/<CapacityClusterDB0BCD31>/*]': 2,
      'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': 1,
    });
    // 60 before issue 13, 36 after it; 45 with the console's cluster reads (tasks, container
    // instances, GetMetricData/DescribeAlarms), ECS's traffic-shifting role for canary deployments, the
    // rollout role's service deployments and the deployment gate (revisions, metrics, its hook role);
    // 47 with the two intake tokens (issue 25); 49 with issue 24: the ALB without deletion protection
    // and the rollout role's task-role path (+2), remediation's task restarts (+1), the account-wide API
    // Gateway logging role only when declared (-1). Every one is a finding above.
    assert.equal(
      Object.values(summary).reduce((sum, n) => sum + n, 0),
      49,
    );
    for (const [id, { reasons }] of acks) {
      for (const reason of reasons) assert.ok(reason.length >= 60, `${id}: reason too thin: ${reason}`);
    }
  });
});

describe('Policy gate catches a planted violation', () => {
  it('reports an unencrypted, unlogged, non-SSL bucket in a throwaway stack and fails the synth', () => {
    // GIVEN a throwaway app with the same gate and a deliberately bad bucket
    const outdir = mkdtempSync(join(tmpdir(), 'platform-aws-gate-'));
    try {
      const app = new App({ outdir, context: { '@aws-cdk/core:appMode': 'inmemory' } });
      const stack = new Stack(app, 'Throwaway');
      const bucket = new s3.Bucket(stack, 'Bucket', {
        encryption: s3.BucketEncryption.UNENCRYPTED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      });
      addPolicyValidation(app);
      // WHEN it is synthesised THEN the synth fails with the findings in the message
      assert.throws(() => app.synth(), /AwsSolutions-S10/);
      const findings = unacknowledgedFindings(outdir);
      const resource = `Throwaway/${bucket.node.id}/Resource`;
      const rules = new Set(findings.filter((f) => f.resource === resource).map((f) => f.rule));
      for (const rule of ['AwsSolutions-S1', 'AwsSolutions-S10', 's3_bucket_logging_enabled_check']) {
        assert.ok(rules.has(rule), `missing ${rule} in ${[...rules].join(', ')}`);
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
