import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';

/**
 * A tiny in-memory DynamoDB table for replaying remediation against the real ledger: GetItem, PutItem
 * and TransactWriteItems (Put, and Update of the form `ADD a :x SET b = :y`), with condition
 * expressions made of `OR`-joined terms `attribute_not_exists(a)`, `a <= :v`, `a < :v`, `a = :v`.
 * Anything else throws, so a ledger change it does not understand fails the test instead of passing.
 */

type Item = Record<string, AttributeValue>;

export class MiniDynamo {
  readonly items = new Map<string, Item>();

  attach(mock: AwsStub<ServiceInputTypes, ServiceOutputTypes, DynamoDBClient['config']>): void {
    mock.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
      const item = this.items.get(input.Key!.pk!.S!);
      return item ? { Item: structuredClone(item) } : {};
    });
    mock.on(PutItemCommand).callsFake((input: PutItemCommandInput) => {
      if (!this.holds(input.Item!.pk!.S!, input.ConditionExpression, input.ExpressionAttributeValues)) {
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        });
      }
      this.items.set(input.Item!.pk!.S!, structuredClone(input.Item!));
      return {};
    });
    mock.on(TransactWriteItemsCommand).callsFake((input: TransactWriteItemsCommandInput) => {
      const writes = input.TransactItems!.map((t) => {
        if (t.Put) {
          const key = t.Put.Item!.pk!.S!;
          return {
            ok: this.holds(key, t.Put.ConditionExpression, t.Put.ExpressionAttributeValues),
            apply: () => this.items.set(key, structuredClone(t.Put!.Item!)),
          };
        }
        if (t.Update) {
          const key = t.Update.Key!.pk!.S!;
          return {
            ok: this.holds(key, t.Update.ConditionExpression, t.Update.ExpressionAttributeValues),
            apply: () => this.update(key, t.Update!.UpdateExpression!, t.Update!.ExpressionAttributeValues!),
          };
        }
        throw new Error(`MiniDynamo: unsupported transaction item ${JSON.stringify(t)}`);
      });
      if (writes.some((w) => !w.ok)) {
        throw new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: writes.map((w) => ({ Code: w.ok ? 'None' : 'ConditionalCheckFailed' })),
        });
      }
      for (const w of writes) w.apply();
      return {};
    });
  }

  private holds(key: string, expression: string | undefined, values: Record<string, AttributeValue> = {}) {
    if (!expression) return true;
    const item = this.items.get(key);
    return expression.split(' OR ').some((term) => {
      const missing = /^attribute_not_exists\((\w+)\)$/.exec(term.trim());
      if (missing) return item?.[missing[1]!] === undefined;
      const compare = /^(\w+) (<=|<|=) (:\w+)$/.exec(term.trim());
      if (!compare) throw new Error(`MiniDynamo: unsupported condition term '${term}'`);
      const [, name, op, ref] = compare;
      const left = item?.[name!]?.N;
      const right = values[ref!]?.N;
      if (left === undefined || right === undefined) return false;
      const [l, r] = [Number(left), Number(right)];
      return op === '<=' ? l <= r : op === '<' ? l < r : l === r;
    });
  }

  private update(key: string, expression: string, values: Record<string, AttributeValue>): void {
    const match = /^ADD (\w+) (:\w+) SET (\w+) = (:\w+)$/.exec(expression);
    if (!match) throw new Error(`MiniDynamo: unsupported update '${expression}'`);
    const [, added, by, set, to] = match;
    const item: Item = this.items.get(key) ?? { pk: { S: key } };
    item[added!] = { N: String(Number(item[added!]?.N ?? 0) + Number(values[by!]!.N)) };
    item[set!] = values[to!]!;
    this.items.set(key, item);
  }
}
