import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnomalyRecord } from '../../../contracts/anomaly.ts';
import {
  filterAnomalies,
  firstLine,
  fullText,
  mergeAnomalies,
  NO_FILTERS,
  severityOf,
} from '../src/anomaly-view.ts';

const record = (minutesAgo: number, extra: Partial<AnomalyRecord> = {}): AnomalyRecord => ({
  id: `r-${minutesAgo}`,
  service: 'backend',
  task: 't-1',
  timestamp: new Date(Date.UTC(2026, 11, 1, 22, 0) - minutesAgo * 60_000).toISOString(),
  score: 0.9,
  line: `ERROR line ${minutesAgo}`,
  ...extra,
});
const NOW = Date.UTC(2026, 11, 1, 22, 0);

describe('anomaly view', () => {
  test('merge: newest first, a resent record once, capped', () => {
    const merged = mergeAnomalies([record(5), record(1)], [record(1), record(0), record(3)], 3);
    assert.deepEqual(
      merged.map((r) => r.line),
      ['ERROR line 0', 'ERROR line 1', 'ERROR line 3'],
    );
  });

  test('merge keeps the object already shown, so its row is not rebuilt', () => {
    const shown = record(1);
    const [kept] = mergeAnomalies([shown], [{ ...shown }]);
    assert.equal(kept, shown);
  });

  test('first line: a JSON line’s msg, else up to the first newline', () => {
    assert.equal(
      firstLine('{"level":"error","msg":"read ECONNRESET\\nsecond","stack":"Error\\n at x"}'),
      'read ECONNRESET',
    );
    assert.equal(firstLine('Error: boom\n    at handler (a.js:1:1)'), 'Error: boom');
    assert.equal(firstLine('{"truncated'), '{"truncated');
  });

  test('full text: JSON pretty-printed with its stack unescaped', () => {
    const text = fullText('{"msg":"boom","stack":"Error: boom\\n    at a (x.js:1:2)"}');
    assert.match(text, /\n\nError: boom\n {4}at a \(x\.js:1:2\)$/);
  });

  test('severity: from the reasons, else the JSON level, else UNKNOWN', () => {
    assert.equal(severityOf(record(0, { reasons: ['rare-template', 'severity:error'] })), 'ERROR');
    assert.equal(severityOf(record(0, { line: '{"level":"warn","msg":"x"}' })), 'WARN');
    assert.equal(severityOf(record(0)), 'UNKNOWN');
  });

  test('filters: service, revision, severity and time range together', () => {
    const records = [
      record(1, { revision: 'backend:8', reasons: ['severity:ERROR'] }),
      record(2, { revision: 'backend:7', reasons: ['severity:ERROR'] }),
      record(30, { revision: 'backend:8', reasons: ['severity:ERROR'] }),
      record(1, { service: 'frontend', revision: 'backend:8', reasons: ['severity:ERROR'] }),
      record(1, { revision: 'backend:8', reasons: ['severity:WARN'] }),
    ];
    const kept = filterAnomalies(
      records,
      { service: 'backend', revision: 'backend:8', severity: 'ERROR', withinMinutes: 15 },
      NOW,
    );
    assert.deepEqual(kept, [records[0]]);
    assert.equal(filterAnomalies(records, NO_FILTERS, NOW).length, 5);
  });
});
