import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { levelOf, parseLogLine, severityOf } from '../index.ts';

describe('parseLogLine', () => {
  it('reads the BGL layout: epoch timestamp, level after the component', () => {
    assert.deepEqual(
      parseLogLine(
        '1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL FATAL data TLB error interrupt',
      ),
      { message: 'data TLB error interrupt', timestamp: 1117838570000, level: 'FATAL' },
    );
  });

  it('reads the HDFS layout: yyMMdd HHmmss, level, then a component with a colon', () => {
    assert.deepEqual(
      parseLogLine(
        '081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_1 terminating',
      ),
      {
        message: 'PacketResponder 1 for block blk_1 terminating',
        timestamp: Date.UTC(2008, 10, 9, 20, 36, 15),
        level: 'INFO',
      },
    );
  });

  it('reads syslog without a level: the message starts after `program[pid]:`', () => {
    assert.deepEqual(
      parseLogLine('Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user admin from 1.2.3.4', { year: 2005 }),
      {
        message: 'Invalid user admin from 1.2.3.4',
        timestamp: Date.UTC(2005, 11, 10, 6, 55, 46),
      },
    );
  });

  it('reads ISO-8601 application logs and JSON lines', () => {
    assert.deepEqual(parseLogLine('2024-05-01T12:00:00.123Z ERROR job 42 failed: timeout'), {
      message: 'job 42 failed: timeout',
      timestamp: Date.UTC(2024, 4, 1, 12, 0, 0, 123),
      level: 'ERROR',
    });
    assert.deepEqual(
      parseLogLine('{"level":"warn","time":"2024-05-01T12:00:00Z","msg":"slow \\"q\\" 1200ms"}'),
      {
        message: 'slow "q" 1200ms',
        timestamp: Date.UTC(2024, 4, 1, 12),
        level: 'WARN',
      },
    );
  });

  it('takes an Object.prototype name for message text, not a level (fast-check found `toString`)', () => {
    // `__proto__` found Object.prototype itself (a property test once scored it null, as NaN).
    for (const word of [
      'toString',
      'constructor',
      '[valueOf]',
      'level=hasOwnProperty',
      '__proto__',
      '[__proto__]',
    ]) {
      assert.deepEqual(parseLogLine(word), { message: word }, word);
      assert.equal(levelOf(word), undefined, word);
    }
  });

  it('returns the whole line as the message when there is no header', () => {
    assert.deepEqual(parseLogLine('plain text: with a colon'), { message: 'plain text: with a colon' });
    assert.deepEqual(parseLogLine(''), { message: '' });
  });
});

describe('levelOf and severityOf', () => {
  it('accepts upper-case or wrapped level tokens only', () => {
    assert.equal(levelOf('WARNING'), 'WARN');
    assert.equal(levelOf('[error]'), 'ERROR');
    assert.equal(levelOf('level=fatal'), 'FATAL');
    assert.equal(levelOf('error'), undefined);
    assert.equal(levelOf('SEVERE'), 'ERROR');
  });

  it('rates failure words in a mild or missing level', () => {
    assert.deepEqual(severityOf(undefined, 'connection refused'), {
      score: 0.35,
      level: 0,
      failureWord: true,
    });
    assert.deepEqual(severityOf('INFO', 'connection refused'), { score: 0.175, level: 0, failureWord: true });
    assert.deepEqual(severityOf('FATAL', 'rts panic'), { score: 1, level: 1, failureWord: true });
    assert.deepEqual(severityOf(undefined, 'session opened'), { score: 0, level: 0, failureWord: false });
  });
});

describe('ISO-8601 timestamps', () => {
  const two = (lo: number, hi: number) =>
    fc.integer({ min: lo, max: hi }).map((x) => String(x).padStart(2, '0'));
  const zone = fc.oneof(
    fc.constant('Z'),
    fc
      .tuple(fc.constantFrom('+', '-'), two(0, 25), fc.constantFrom(':', ''), two(0, 61))
      .map((t) => t.join('')),
  );
  const iso = fc.record({
    year: fc.integer({ min: 0, max: 9999 }).map((y) => String(y).padStart(4, '0')),
    month: two(0, 13),
    day: two(0, 32),
    hour: two(0, 25),
    minute: two(0, 61),
    second: two(0, 61),
    fraction: fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
    zone: fc.option(zone, { nil: undefined }),
  });

  it('reads every date, and refuses every non-date, exactly as Date.parse does (out-of-range fields included)', () => {
    fc.assert(
      fc.property(iso, (t) => {
        const fraction = t.fraction === undefined ? '' : `.${t.fraction.slice(0, 3).padEnd(3, '0')}`;
        const expected = Date.parse(
          `${t.year}-${t.month}-${t.day}T${t.hour}:${t.minute}:${t.second}${fraction}${t.zone ?? 'Z'}`,
        );
        const line = `${t.year}-${t.month}-${t.day}T${t.hour}:${t.minute}:${t.second}${t.fraction === undefined ? '' : `.${t.fraction}`}${t.zone ?? ''} INFO started`;
        const { timestamp } = parseLogLine(line, { year: 2020 });
        // No other header shape fits these lines, so a non-date leaves the line without a timestamp.
        assert.equal(timestamp, Number.isNaN(expected) ? undefined : expected, line);
      }),
      { numRuns: 20_000 },
    );
  });
});
