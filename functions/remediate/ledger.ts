import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';

/**
 * Remediation state on AWS: one small DynamoDB table (partition key `pk`, TTL attribute `expiresAt`),
 * written only with conditional writes, so concurrent invocations (EventBridge delivers at least once;
 * several alarms can fire together) agree without locks:
 *
 * - `event#<EventBridge event id>`: created once; a second delivery of the same event finds it and stops.
 * - `resource#<service/… | instance/…>`: `lastActionAt`; a claim succeeds only when it is older than
 *   the cooldown, so a flapping alarm cannot act twice on one resource within the cooldown.
 * - `window#<window start>`: an action counter per fixed window; a claim succeeds only below the budget.
 *
 * An action claims all three in one `TransactWriteItems`: either every condition holds and all three
 * are written, or nothing is written and the cancellation reasons say which condition failed.
 */

const CONFLICT_ATTEMPTS = 4;

/** Outcome of a claim. */
export type ClaimResult = 'claimed' | 'duplicate' | 'cooling-down' | 'budget-exhausted';

/** The state store the remediation core needs (the DynamoDB ledger, or a fake in tests). */
export interface RemediationLedger {
  /** Records an event that leads to a notice but no action; `duplicate` when seen before. */
  claimEvent(eventId: string, nowMs: number): Promise<'claimed' | 'duplicate'>;
  /** Claims the right to act on `resourceKey` for `eventId`, atomically with the window budget. */
  claimAction(eventId: string, resourceKey: string, nowMs: number): Promise<ClaimResult>;
}

/** Settings of {@link DynamoDbLedger}. */
export interface DynamoDbLedgerOptions {
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly tableName: string;
  /** Minimum time between two actions on one resource. */
  readonly cooldownSeconds: number;
  /** Actions allowed per window, across all resources. */
  readonly maxActionsPerWindow: number;
  /** Window length. @default 3600 */
  readonly windowSeconds?: number;
  /** How long event ids are remembered (EventBridge retries for up to 24 h). @default 2 days */
  readonly eventRetentionSeconds?: number;
}

/**
 * @example
 * const ledger = new DynamoDbLedger({ client: new DynamoDBClient({}), tableName, cooldownSeconds: 600, maxActionsPerWindow: 6 });
 */
export class DynamoDbLedger implements RemediationLedger {
  private readonly options: Required<DynamoDbLedgerOptions>;

  constructor(options: DynamoDbLedgerOptions) {
    this.options = { windowSeconds: 3600, eventRetentionSeconds: 2 * 86_400, ...options };
  }

  async claimEvent(eventId: string, nowMs: number): Promise<'claimed' | 'duplicate'> {
    try {
      await this.options.client.send(new PutItemCommand(this.eventPut(eventId, nowMs)));
      return 'claimed';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      throw error;
    }
  }

  async claimAction(eventId: string, resourceKey: string, nowMs: number): Promise<ClaimResult> {
    // Two claims touching the same window item at once: DynamoDB cancels one with TransactionConflict
    // (no condition failed). Retrying is safe: the conditions are re-evaluated on the new state.
    for (let attempt = 1; ; attempt++) {
      const result = await this.tryClaimAction(eventId, resourceKey, nowMs);
      if (result !== 'conflict') return result;
      if (attempt >= CONFLICT_ATTEMPTS) throw new Error(`claim for ${resourceKey} kept conflicting`);
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt + Math.random() * 25));
    }
  }

  private async tryClaimAction(
    eventId: string,
    resourceKey: string,
    nowMs: number,
  ): Promise<ClaimResult | 'conflict'> {
    const { tableName, cooldownSeconds, maxActionsPerWindow, windowSeconds } = this.options;
    const nowSeconds = Math.floor(nowMs / 1000);
    const windowStart = nowSeconds - (nowSeconds % windowSeconds);
    try {
      await this.options.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: this.eventPut(eventId, nowMs) },
            {
              Put: {
                TableName: tableName,
                Item: {
                  pk: { S: `resource#${resourceKey}` },
                  lastActionAt: { N: String(nowSeconds) },
                  lastEventId: { S: eventId },
                  expiresAt: { N: String(nowSeconds + cooldownSeconds + 86_400) },
                },
                ConditionExpression: 'attribute_not_exists(pk) OR lastActionAt <= :cutoff',
                ExpressionAttributeValues: { ':cutoff': { N: String(nowSeconds - cooldownSeconds) } },
              },
            },
            {
              Update: {
                TableName: tableName,
                Key: { pk: { S: `window#${windowStart}` } },
                UpdateExpression: 'ADD actions :one SET expiresAt = :expires',
                ConditionExpression: 'attribute_not_exists(actions) OR actions < :max',
                ExpressionAttributeValues: {
                  ':one': { N: '1' },
                  ':max': { N: String(maxActionsPerWindow) },
                  ':expires': { N: String(windowStart + 2 * windowSeconds) },
                },
              },
            },
          ],
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
      // Item order above: event, resource, window. The event check wins: a duplicate is never "cooling".
      if (codes[0] === 'ConditionalCheckFailed') return 'duplicate';
      if (codes[1] === 'ConditionalCheckFailed') return 'cooling-down';
      if (codes[2] === 'ConditionalCheckFailed') return 'budget-exhausted';
      if (codes.includes('TransactionConflict')) return 'conflict';
      throw error;
    }
  }

  private eventPut(eventId: string, nowMs: number) {
    const nowSeconds = Math.floor(nowMs / 1000);
    return {
      TableName: this.options.tableName,
      Item: {
        pk: { S: `event#${eventId}` },
        seenAt: { N: String(nowSeconds) },
        expiresAt: { N: String(nowSeconds + this.options.eventRetentionSeconds) },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
  }
}
