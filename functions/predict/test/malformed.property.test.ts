import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { ERROR_STATUS } from '../../../contracts/errors.ts';
import { PredictionRequestSchema } from '../../../contracts/prediction.ts';
import { ScoringClient } from '../../../model/client/scoring-client.ts';
import { loadEvent } from '../../shared/fixtures.ts';
import { handlePredictEvent } from '../core.ts';

// The endpoint answers every call with a valid response: if a malformed body ever reached it, the
// handler would answer 200 and the property would fail.
const runtimeMock = mockClient(SageMakerRuntimeClient);
runtimeMock.on(InvokeEndpointCommand).resolves({
  Body: new TextEncoder().encode(
    JSON.stringify({
      predictions: [{ score: 0.5, anomaly: false }],
      model: { name: 'm', version: '1', threshold: 0.5 },
    }),
  ) as never,
});
after(() => runtimeMock.restore());

const scoring = new ScoringClient({
  endpointName: 'property-test',
  runtime: new SageMakerRuntimeClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  }),
});
const template = loadEvent<Record<string, unknown>>('predict', 'vectors.json');

function isValidRequest(text: string): boolean {
  try {
    return PredictionRequestSchema.safeParse(JSON.parse(text)).success;
  } catch {
    return false;
  }
}

const number = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
const notANumber = fc.oneof(
  fc.constant('NaN'),
  fc.constant('Infinity'),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant({}),
  fc.constant([]),
);
const wrongLengthVector = fc
  .array(number, { maxLength: 9 })
  .filter((v) => v.length !== 4)
  .map((v) => v);
const vectorWithBadItem = fc
  .tuple(fc.array(number, { minLength: 3, maxLength: 3 }), notANumber, fc.nat(3))
  .map(([v, bad, at]) => {
    const out: unknown[] = [...v];
    out.splice(at, 0, bad);
    return out;
  });
const badLogEvent = fc.oneof(
  fc.record({ message: fc.string() }),
  fc.record({ timestamp: notANumber.filter((x) => typeof x !== 'string'), message: fc.string() }),
  fc.record({
    timestamp: fc.string({ maxLength: 6 }).filter((s) => Number.isNaN(Date.parse(s))),
    message: fc.string(),
  }),
  fc.record({ timestamp: number, message: fc.oneof(fc.integer(), fc.constant(null)) }),
  fc.record({ timestamp: number, message: fc.string(), extra: fc.string() }),
);

/** Bodies that are not a valid prediction request, each rendered as the text a client would send. */
const malformedBody: fc.Arbitrary<string> = fc
  .oneof(
    // Not JSON at all, or truncated JSON.
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
    // JSON, but not an object with data/logs.
    fc.jsonValue().map((v) => JSON.stringify(v)),
    // Near misses of the vector shape.
    wrongLengthVector.map((data) => JSON.stringify({ data })),
    vectorWithBadItem.map((data) => JSON.stringify({ data })),
    fc
      .array(fc.oneof(wrongLengthVector, vectorWithBadItem), { minLength: 1, maxLength: 4 })
      .map((data) => JSON.stringify({ data })),
    fc.constant('{"data":[]}'),
    fc.constant('{"data":[[1,2,3,4]],"extra":true}'),
    fc.constant('{"data":[1e999,2,3,4]}'),
    // Near misses of the logs shape.
    fc.array(badLogEvent, { minLength: 1, maxLength: 3 }).map((logs) => JSON.stringify({ logs })),
    fc.constant('{"logs":[]}'),
    fc.constant('{"logs":{}}'),
  )
  .filter((text) => !isValidRequest(text));

const contentType = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/problem+json',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', ''),
  },
);

describe('predict: malformed bodies (property)', () => {
  it('answers every one of 10,000 malformed bodies with a 4xx JSON error and never throws', async () => {
    let seen = 0;
    await fc.assert(
      fc.asyncProperty(malformedBody, contentType, fc.boolean(), async (body, type, asBase64) => {
        seen++;
        const event = {
          ...template,
          headers: type === '' ? {} : { 'Content-Type': type },
          multiValueHeaders: type === '' ? {} : { 'Content-Type': [type] },
          body: asBase64 ? Buffer.from(body, 'utf8').toString('base64') : body,
          isBase64Encoded: asBase64,
        };
        const result = await handlePredictEvent(event, {
          scoring,
          log: (message) => assert.fail(`unexpected 5xx log: ${message}`),
        });
        assert.ok(
          result.statusCode >= 400 && result.statusCode < 500,
          `status ${result.statusCode} for ${body}`,
        );
        const parsed = JSON.parse(result.body) as {
          error: { code: keyof typeof ERROR_STATUS; message: string };
        };
        assert.equal(ERROR_STATUS[parsed.error.code], result.statusCode);
        assert.equal(typeof parsed.error.message, 'string');
        assert.equal(result.headers?.['content-type'], 'application/json');
      }),
      { numRuns: 10_000, seed: 20251128 },
    );
    assert.equal(seen >= 10_000, true);
    assert.equal(runtimeMock.commandCalls(InvokeEndpointCommand).length, 0);
  });
});
