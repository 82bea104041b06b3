import type { Manifest, ServiceManifest } from '../../config/index.ts';
import type { PauseWiring, RetainedWiring, TeardownWiring, TestRouteWiring } from './types.ts';

/**
 * The platform's lifecycle facts, decided once: where a new revision takes test traffic, where a
 * release pauses for a person, where a release is recorded, and what a teardown keeps.
 */

/** The test route's listener ports: never a production port (443, or 80 on an HTTP-only edge). */
export const TEST_ROUTE_PORTS = { HTTPS: 8443, HTTP: 8080 } as const;

/** The stacks, in the order a person deploys them: the bootstrap stage once, then the platform. */
export const STACK_STAGES = ['bootstrap', 'platform'] as const;
export type StackStage = (typeof STACK_STAGES)[number];

/**
 * The test route, or null: no service shifts traffic, or the platform has no NAT gateway (the gate
 * reaches the internet-facing ALB through the NAT gateways; without one nothing can reach it).
 */
export function wireTestRoute(manifest: Manifest): TestRouteWiring | null {
  const shifts = manifest.services.some((s) => s.deployment.strategy !== 'rolling');
  if (!shifts || manifest.platform.network.natGateways === 0) return null;
  const protocol = manifest.platform.edge.insecureHttpOnly ? 'HTTP' : 'HTTPS';
  return { port: TEST_ROUTE_PORTS[protocol], protocol, reachableFrom: 'nat-gateways' };
}

/** The declared manual approval as ECS's pause hook; null when releases do not wait. */
export function wirePause(service: ServiceManifest): PauseWiring | null {
  const approval = service.approval;
  if (!approval) return null;
  return {
    stage: approval.stage,
    timeoutMinutes: approval.timeoutMinutes,
    onTimeout: approval.onTimeout === 'continue' ? 'CONTINUE' : 'ROLLBACK',
  };
}

/**
 * What a release parameter holds until a release records an image: not an image reference, so a
 * platform stack deployed before anything was recorded fails at once, naming the parameter.
 */
export const RELEASE_NOT_RECORDED = 'none';

/** The SSM parameter recording image `image`'s last release. */
export function releaseParameterName(platform: string, image: string): string {
  return `/${platform}/release/${image}`;
}

/** What `cdk destroy` deletes in which order, and what it keeps on purpose. */
export function wireTeardown(manifest: Manifest): TeardownWiring {
  const platform = manifest.platform.name;
  const { teardown } = manifest.platform;
  const byTag = `aws resourcegroupstaggingapi get-resources --tag-filters Key=platform,Values=${platform}`;
  const retained: RetainedWiring[] = [
    {
      what: 'access-log-bucket',
      reason:
        'CloudFormation cannot delete a bucket that still holds objects; the bucket expires every access log after edge.accessLogRetentionDays, and its name is generated, so a new stack never collides with it',
      deleteWith: `${byTag} --resource-type-filters s3:bucket, then aws s3 rb s3://BUCKET --force`,
    },
  ];
  if (teardown.retainLogs) {
    retained.push({
      what: 'log-groups',
      reason:
        'logs are the evidence of what ran; their names are generated, so a new stack never collides with them (their KMS key is kept with them, so they stay readable)',
      deleteWith: `${byTag} --resource-type-filters logs:log-group kms:key, then aws logs delete-log-group and aws kms schedule-key-deletion for each`,
    });
  }
  if (manifest.platform.account.apiGatewayLoggingRole) {
    retained.push({
      what: 'api-gateway-logging-role',
      reason:
        'the account-wide API Gateway logging role (declared account.apiGatewayLoggingRole) stays: every API of the region logs through it once it is set; its name is generated',
      deleteWith:
        'aws apigateway get-account (its cloudwatchRoleArn), then aws iam delete-role once no API of the region logs',
    });
  }
  if (teardown.retainUserPool) {
    retained.push({
      what: 'user-pool',
      reason:
        'operators and their MFA enrolments survive a rebuild; the sign-in domain is deleted with the stack, so a new stack creates its own pool and domain',
      deleteWith: `aws cognito-idp list-user-pools --max-results 60 (the pool named ${platform}-console), then aws cognito-idp update-user-pool --user-pool-id ID --deletion-protection INACTIVE and aws cognito-idp delete-user-pool --user-pool-id ID`,
    });
  }
  return {
    order: [...STACK_STAGES].reverse(),
    loadBalancerDeletionProtection: teardown.loadBalancerDeletionProtection,
    retained,
  };
}
