import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { RemediationRulesSchema } from '../../contracts/remediation-rules.ts';
import { booleanFlag, readEnvironment } from '../shared/environment.ts';
import { ClusterOperations } from './actions.ts';
import { type RemediationOutcome, remediate } from './core.ts';
import { DynamoDbLedger } from './ledger.ts';

/** The namespace of the remediation function's own metrics (`Remediations` by `Outcome`). */
export const REMEDIATION_METRIC_NAMESPACE = 'Platform/Remediation';

/**
 * The `remediate` function's environment, read once per cold start.
 * - `CLUSTER_NAME`: the ECS cluster every action is scoped to.
 * - `TOPIC_ARN`: the operator topic notices go to.
 * - `LEDGER_TABLE_NAME`: the DynamoDB table of {@link DynamoDbLedger}.
 * - `REMEDIATION_RULES`: JSON array of rules (see contracts/remediation-rules.ts), written by the CDK construct.
 * - `DRY_RUN`: `true` decides, claims and notifies but changes nothing; `false` acts.
 * - `COOLDOWN_SECONDS`, `MAX_ACTIONS_PER_WINDOW`, `WINDOW_SECONDS` (default 3600).
 */
export const RemediateEnvironmentSchema = z.object({
  CLUSTER_NAME: z.string().min(1),
  TOPIC_ARN: z.string().startsWith('arn:'),
  LEDGER_TABLE_NAME: z.string().min(1),
  REMEDIATION_RULES: z.string().transform((text, ctx) => {
    try {
      return RemediationRulesSchema.parse(JSON.parse(text));
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a JSON array of rules (${(error as Error).message})`,
      });
      return z.NEVER;
    }
  }),
  DRY_RUN: z.enum(['true', 'false']).transform(booleanFlag),
  COOLDOWN_SECONDS: z.coerce.number().int().min(0),
  MAX_ACTIONS_PER_WINDOW: z.coerce.number().int().min(1),
  WINDOW_SECONDS: z.coerce.number().int().min(60).default(3600),
});

const env = readEnvironment(RemediateEnvironmentSchema);
const logger = new Logger({ serviceName: 'remediate' });
const metrics = new Metrics({ namespace: REMEDIATION_METRIC_NAMESPACE, serviceName: 'remediate' });
const operations = new ClusterOperations({
  ecs: new ECSClient({}),
  ec2: new EC2Client({}),
  cloudwatch: new CloudWatchClient({}),
  sns: new SNSClient({}),
  clusterName: env.CLUSTER_NAME,
  topicArn: env.TOPIC_ARN,
});
const ledger = new DynamoDbLedger({
  client: new DynamoDBClient({}),
  tableName: env.LEDGER_TABLE_NAME,
  cooldownSeconds: env.COOLDOWN_SECONDS,
  maxActionsPerWindow: env.MAX_ACTIONS_PER_WINDOW,
  windowSeconds: env.WINDOW_SECONDS,
});

/** EventBridge "CloudWatch Alarm State Change" → remediation (asynchronous invocation). */
export async function handler(event: unknown): Promise<RemediationOutcome> {
  try {
    const result = await remediate(event, {
      rules: env.REMEDIATION_RULES,
      operations,
      ledger,
      dryRun: env.DRY_RUN,
      now: Date.now,
    });
    const log = result.outcome === 'invalid-event' ? logger.error.bind(logger) : logger.info.bind(logger);
    log('remediation', { ...result });
    metrics.addDimension('Outcome', result.outcome);
    metrics.addMetric('Remediations', MetricUnit.Count, 1);
    return result;
  } catch (error) {
    logger.error('remediation failed', { error: String(error) });
    metrics.addDimension('Outcome', 'error');
    metrics.addMetric('Remediations', MetricUnit.Count, 1);
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
