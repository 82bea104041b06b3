import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake received it. */
export interface FakeAwsRequest {
  /** `X-Amz-Target` of JSON protocols (`''` for query protocols). */
  readonly target: string;
  readonly body: string;
}

/** A running {@link startFakeAws}. */
export interface FakeAws {
  readonly url: string;
  readonly requests: readonly FakeAwsRequest[];
  close(): Promise<void>;
}

/** Response bodies by `X-Amz-Target`; the protocol version (DynamoDB 1.0, ECS 1.1) follows the target. */
const JSON_ANSWERS: Readonly<Record<string, unknown>> = {
  'AmazonEC2ContainerServiceV20141113.DescribeServices': {
    services: [{ serviceName: 'acme-backend', status: 'ACTIVE', desiredCount: 2 }],
  },
  'AmazonEC2ContainerServiceV20141113.UpdateService': {
    service: { serviceName: 'backend', desiredCount: 3 },
  },
  'DynamoDB_20120810.PutItem': { ConsumedCapacity: { TableName: 'ledger', CapacityUnits: 1 } },
};

const QUERY_ANSWERS: Readonly<Record<string, string>> = {
  RebootInstances:
    '<RebootInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><return>true</return></RebootInstancesResponse>',
  Publish:
    '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></PublishResponse>',
};

/**
 * Test and benchmark helper: a loopback HTTP server answering the AWS calls remediate makes (ECS and
 * DynamoDB over JSON, EC2 and SNS over query) as the real services shape them, recording each request.
 * Other JSON targets get `{}`; unknown query actions a 400 `UnknownOperationException`.
 */
export async function startFakeAws(): Promise<FakeAws> {
  const requests: FakeAwsRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      requests.push({ target, body });
      if (target) {
        res.writeHead(200, {
          'content-type': `application/x-amz-json-1.${target.startsWith('DynamoDB_') ? 0 : 1}`,
        });
        res.end(JSON.stringify(JSON_ANSWERS[target] ?? {}));
        return;
      }
      const action = new URLSearchParams(body).get('Action') ?? '';
      const xml = QUERY_ANSWERS[action];
      if (xml) {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(xml);
      } else {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"__type":"UnknownOperationException"}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
