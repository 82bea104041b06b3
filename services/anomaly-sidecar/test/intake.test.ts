import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IntakeBodyError, intakeFormatOf, parseIntakeBody } from '../src/intake.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const options = { maxLineChars: 100, now: 1_700_000_000_000 };
const TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/acme-cluster/8f03e41243824aea923aca126495f665';

const EXPECTED = [
  {
    time: 1718000000123,
    line: '2024-06-10T06:13:20.123Z INFO GET /api/services 200 4ms',
    container: 'backend',
    task: TASK,
    cluster: 'acme-cluster',
    source: 'stdout',
  },
  {
    time: 1718000000457,
    line: '2024-06-10T06:13:20.456Z ERROR upstream connection refused by 10.0.3.17:8081',
    container: 'backend',
    task: TASK,
    cluster: 'acme-cluster',
    source: 'stderr',
  },
  {
    time: 1718000001001,
    line: '{"level":"info","msg":"request served","status":200}',
    container: 'backend',
    task: TASK,
    cluster: 'acme-cluster',
    source: 'stdout',
  },
];

describe('parseIntakeBody', () => {
  it('reads a FireLens format json body (array), keeping the ECS metadata', () => {
    const body = fixture('firelens-json.json');
    const result = parseIntakeBody(body, intakeFormatOf('application/json', body), options);
    assert.deepEqual(result, { records: EXPECTED, rejected: { malformed: 0, oversized: 0 } });
  });

  it('reads a FireLens format json_lines body, whatever its media type says', () => {
    const body = fixture('firelens-json-lines.ndjson');
    for (const contentType of ['application/x-ndjson', 'application/json']) {
      assert.equal(intakeFormatOf(contentType, body), 'json_lines');
      assert.deepEqual(parseIntakeBody(body, intakeFormatOf(contentType, body), options), {
        records: EXPECTED,
        rejected: { malformed: 0, oversized: 0 },
      });
    }
  });

  it('counts and skips hostile records without losing their companions', () => {
    const body = JSON.stringify([
      { date: 1, log: 'kept one' },
      null,
      42,
      ['log', 'x'],
      { date: 1, log: 7 },
      { date: 1 },
      { date: 1, log: 'x'.repeat(101) },
      { __proto__: { log: 'inherited' }, date: 1 },
      { date: 'not a date', log: 'kept two', container_name: 'y'.repeat(600) },
      { date: 1e300, log: 'kept three' },
    ]);
    const result = parseIntakeBody(body, 'json', options);
    assert.deepEqual(result.rejected, { malformed: 6, oversized: 1 });
    assert.deepEqual(result.records, [
      { time: 1000, line: 'kept one' },
      { time: options.now, line: 'kept two' },
      { time: options.now, line: 'kept three' },
    ]);
  });

  it('skips a json_lines line that is not JSON and keeps the others', () => {
    const body = '{"date":2,"log":"a"}\n{"date":2,"log":\n\n{"date":"2024-06-10T06:13:20Z","log":"b"}\r\n';
    assert.deepEqual(parseIntakeBody(body, 'json_lines', options), {
      records: [
        { time: 2000, line: 'a' },
        { time: Date.parse('2024-06-10T06:13:20Z'), line: 'b' },
      ],
      rejected: { malformed: 1, oversized: 0 },
    });
  });

  it('accepts a parser-renamed `message` field and a lone record object', () => {
    assert.deepEqual(parseIntakeBody('{"date":3,"message":"m"}', 'json', options).records, [
      { time: 3000, line: 'm' },
    ]);
  });

  it('refuses a body that is not JSON at all, or holds nothing', () => {
    assert.throws(() => parseIntakeBody('[{"log":', 'json', options), IntakeBodyError);
    assert.throws(() => parseIntakeBody('"a string"', 'json', options), {
      name: 'IntakeBodyError',
      message: 'a format json body must be a JSON array of records',
    });
    assert.throws(() => parseIntakeBody(' \n\n ', 'json_lines', options), {
      message: 'body holds no records',
    });
  });

  it('property: any body either parses with every item accounted for or throws IntakeBodyError', () => {
    const record = fc.record(
      {
        date: fc.oneof(fc.double(), fc.string(), fc.constant(null)),
        log: fc.oneof(fc.string({ maxLength: 150 }), fc.integer()),
        container_name: fc.string(),
      },
      { requiredKeys: [] },
    );
    const item = fc.oneof(record, fc.anything());
    fc.assert(
      fc.property(fc.array(item, { maxLength: 20 }), fc.boolean(), (items, lines) => {
        const body = lines
          ? items.map((i) => JSON.stringify(i) ?? 'undefined').join('\n')
          : JSON.stringify(items);
        let result: ReturnType<typeof parseIntakeBody>;
        try {
          result = parseIntakeBody(body, lines ? 'json_lines' : 'json', options);
        } catch (error) {
          assert.ok(error instanceof IntakeBodyError, String(error));
          return;
        }
        const counted = result.records.length + result.rejected.malformed + result.rejected.oversized;
        assert.equal(counted, items.length);
        for (const r of result.records) {
          assert.equal(typeof r.line, 'string');
          assert.ok(r.line.length <= options.maxLineChars);
          assert.ok(Number.isFinite(r.time));
          new Date(r.time).toISOString();
        }
      }),
      { numRuns: 300 },
    );
  });
});
