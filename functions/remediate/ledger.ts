import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
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
 * - `budget#<kind>`: the times of the actions of one kind (`scale-out`, `redeploy`, `reboot`) within the
 *   last window, and a version. Each kind has its own budget, so redeploys can never starve a scale-out,
 *   and the window slides: at most `maxActionsPerWindow` of a kind in *any* window, not per clock hour
 *   (a fixed window allowed twice the budget across its boundary).
 *
 * An action reads its budget item, then claims all three in one `TransactWriteItems`: either every
 * condition holds (the budget item unchanged since it was read) and all three are written, or nothing is
 * written and the cancellation reasons say which condition failed; a changed budget is read again.
 */

const CONFLICT_ATTEMPTS = 4;

/** Outcome of a claim. */
export type ClaimResult = 'claimed' | 'duplicate' | 'cooling-down' | 'budget-exhausted';

/** Budgets are per kind of action. */
export type BudgetKind = 'scale-out' | 'redeploy' | 'reboot';

/**
 * The action times a sliding window keeps: those after `nowSeconds - windowSeconds`. Pure, so the
 * window rule is tested on its own.
 */
export function timesInWindow(times: readonly number[], nowSeconds: number, windowSeconds: number): number[] {
  return times.filter((t) => t > nowSeconds - windowSeconds).sort((a, b) => a - b);
}

/** The state store the remediation core needs (the DynamoDB ledger, or a fake in tests). */
export interface RemediationLedger {
  /** Records an event that leads to a notice but no action; `duplicate` when seen before. */
  claimEvent(eventId: string, nowMs: number): Promise<'claimed' | 'duplicate'>;
  /** Claims the right to act on `resourceKey` for `eventId`, atomically with the budget of its kind. */
  claimAction(eventId: string, resourceKey: string, budget: BudgetKind, nowMs: number): Promise<ClaimResult>;
}

/** Settings of {@link DynamoDbLedger}. */
export interface DynamoDbLedgerOptions {
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly tableName: string;
  /** Minimum time between two actions on one resource. */
  readonly cooldownSeconds: number;
  /** Actions of one kind allowed in any window, across all resources. */
  readonly maxActionsPerWindow: number;
  /** Sliding window length. @default 3600 */
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

  async claimAction(
    eventId: string,
    resourceKey: string,
    budget: BudgetKind,
    nowMs: number,
  ): Promise<ClaimResult> {
    // The budget item changed between read and write (another claim of the same kind, or DynamoDB's
    // TransactionConflict): read it again and re-evaluate; the conditions make this safe.
    for (let attempt = 1; ; attempt++) {
      const result = await this.tryClaimAction(eventId, resourceKey, budget, nowMs);
      if (result !== 'conflict') return result;
      if (attempt >= CONFLICT_ATTEMPTS) throw new Error(`claim for ${resourceKey} kept conflicting`);
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt + Math.random() * 25));
    }
  }

  private async tryClaimAction(
    eventId: string,
    resourceKey: string,
    budget: BudgetKind,
    nowMs: number,
  ): Promise<ClaimResult | 'conflict'> {
    const { tableName, cooldownSeconds, maxActionsPerWindow, windowSeconds } = this.options;
    const nowSeconds = Math.floor(nowMs / 1000);
    const budgetKey = { pk: { S: `budget#${budget}` } };
    const current = await this.options.client.send(
      new GetItemCommand({ TableName: tableName, Key: budgetKey, ConsistentRead: true }),
    );
    const version = Number(current.Item?.version?.N ?? 0);
    const recent = timesInWindow(
      (current.Item?.times?.L ?? []).map((v) => Number(v.N)),
      nowSeconds,
      windowSeconds,
    );
    if (recent.length >= maxActionsPerWindow) return 'budget-exhausted';
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
              Put: {
                TableName: tableName,
                Item: {
                  ...budgetKey,
                  times: { L: [...recent, nowSeconds].map((t) => ({ N: String(t) })) },
                  version: { N: String(version + 1) },
                  expiresAt: { N: String(nowSeconds + 2 * windowSeconds) },
                },
                ConditionExpression: 'attribute_not_exists(pk) OR version = :version',
                ExpressionAttributeValues: { ':version': { N: String(version) } },
              },
            },
          ],
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
      // Item order above: event, resource, budget. The event check wins: a duplicate is never "cooling".
      if (codes[0] === 'ConditionalCheckFailed') return 'duplicate';
      if (codes[1] === 'ConditionalCheckFailed') return 'cooling-down';
      if (codes[2] === 'ConditionalCheckFailed' || codes.includes('TransactionConflict')) return 'conflict';
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
