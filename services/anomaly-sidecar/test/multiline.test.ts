import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IntakeRecord } from '../src/intake.ts';
import {
  joinRecords,
  type MultilineParser,
  type MultilineRule,
  PLATFORM_MULTILINE_PARSER,
  parseMultilineParser,
} from '../src/multiline.ts';
import { stackTrace } from './fixtures/stack-trace.ts';

/** Issue 25: multi-line events joined before scoring, as Fluent Bit's regex multiline parser joins them. */

const record = (line: string, container = 'app', task = 't1'): IntakeRecord => ({
  time: 1,
  line,
  container,
  task,
});

/** The events of one stream's lines, as the sidecar joins one body. */
const joinAll = (lines: readonly string[]): string[] =>
  joinRecords(
    lines.map((l) => record(l)),
    PLATFORM_MULTILINE_PARSER,
    65_536,
  ).events.map((e) => e.line);

/**
 * The reference: Fluent Bit's rule semantics written line by line, as the sidecar first joined them
 * (joinRecords replaced it for its allocations). `emit` receives each event, its first line's `meta`
 * and its line count.
 */
class ReferenceJoiner<Meta> {
  private open: { lines: string[]; meta: Meta; rule: MultilineRule } | undefined;

  constructor(
    private readonly parser: MultilineParser,
    private readonly emit: (text: string, meta: Meta, lines: number) => void,
  ) {}

  push(line: string, meta: Meta): void {
    const open = this.open;
    if (open) {
      // The rules reachable from the last rule matched: those whose state is its `next`.
      const continued = this.parser.rules.find(
        (r) => r.state !== 'start_state' && r.state === open.rule.next && r.pattern.test(line),
      );
      if (continued) {
        open.lines.push(line);
        open.rule = continued;
        return;
      }
    }
    const start = this.parser.rules.find((r) => r.state === 'start_state' && r.pattern.test(line));
    this.flush();
    if (start) this.open = { lines: [line], meta, rule: start };
    else this.emit(line, meta, 1);
  }

  /** Lines and characters of the open event so far. */
  get openSize(): { readonly lines: number; readonly chars: number } {
    const lines = this.open?.lines ?? [];
    return { lines: lines.length, chars: lines.reduce((n, l) => n + l.length + 1, 0) };
  }

  flush(): void {
    const open = this.open;
    this.open = undefined;
    if (open) this.emit(open.lines.join('\n'), open.meta, open.lines.length);
  }
}

describe('the platform multiline parser', () => {
  it('joins a 12-line stack trace between ordinary lines into one event', () => {
    assert.deepEqual(joinAll(['INFO a', ...stackTrace(1), 'INFO b']), [
      'INFO a',
      stackTrace(1).join('\n'),
      'INFO b',
    ]);
  });

  it('continues with Caused by, "... N more" and closing brackets; an empty line stands alone', () => {
    const java = ['Exception in thread "main" java.lang.IllegalStateException: x', '\tat A.b(A.java:1)'];
    const cause = ['Caused by: java.io.IOException: y', '\tat C.d(C.java:2)', '... 3 more'];
    assert.deepEqual(joinAll([...java, ...cause, '', 'INFO next']), [
      [...java, ...cause].join('\n'),
      '',
      'INFO next',
    ]);
    assert.deepEqual(joinAll(['{ error: x,', '  code: 1', '}']), ['{ error: x,\n  code: 1\n}']);
  });

  it('reads Fluent Bit parser syntax and refuses what it does not implement', () => {
    assert.throws(
      () => parseMultilineParser('[MULTILINE_PARSER]\n name x\n type regex\n', 'x'),
      /no start_state/,
    );
    assert.throws(
      () => parseMultilineParser('[MULTILINE_PARSER]\n name x\n type go\n', 'x'),
      /only type regex/,
    );
    assert.throws(() => parseMultilineParser('', 'x'), /no \[MULTILINE_PARSER\] named x/);
  });
});

describe('joinRecords (one intake body)', () => {
  it('joins per stream (task and container), interleaved records kept apart', () => {
    const [first, ...rest] = stackTrace(2);
    const body = [
      record(first!),
      record('INFO other container', 'sidecar'),
      ...rest.map((l) => record(l)),
      record('INFO after'),
    ];
    const { events, joined } = joinRecords(body, PLATFORM_MULTILINE_PARSER, 65_536);
    assert.deepEqual(
      events.map((e) => [e.container, e.line]),
      [
        // Events end in order within a stream; at the body's end the open ones close stream by stream.
        ['app', stackTrace(2).join('\n')],
        ['app', 'INFO after'],
        ['sidecar', 'INFO other container'],
      ],
    );
    assert.equal(joined, 11);
  });

  it('never grows an event past the longest line the intake accepts', () => {
    const lines = ['Error: x', ...Array.from({ length: 20 }, () => `    at ${'f'.repeat(30)}`)];
    const { events, joined } = joinRecords(
      lines.map((l) => record(l)),
      PLATFORM_MULTILINE_PARSER,
      100,
    );
    assert.ok(
      events.every((e) => e.line.length <= 100),
      JSON.stringify(events.map((e) => e.line.length)),
    );
    assert.equal(events.length + joined, lines.length, 'every line is in exactly one event');
  });
});

describe('joinRecords matches the line-by-line reference', () => {
  /** The joiner fed one body's records per stream, as joinRecords was first written (a reference). */
  function reference(records: readonly IntakeRecord[], maxChars: number) {
    const events: IntakeRecord[] = [];
    let joined = 0;
    const streams = new Map<string, ReferenceJoiner<IntakeRecord>>();
    for (const record of records) {
      const key = `${record.task ?? ''}|${record.container ?? ''}`;
      let joiner = streams.get(key);
      if (!joiner) {
        joiner = new ReferenceJoiner<IntakeRecord>(PLATFORM_MULTILINE_PARSER, (text, first, lines) => {
          joined += lines - 1;
          events.push(lines === 1 ? first : { ...first, line: text });
        });
        streams.set(key, joiner);
      }
      const open = joiner.openSize;
      if (open.lines >= 500 || (open.lines > 0 && open.chars + record.line.length > maxChars)) joiner.flush();
      joiner.push(record.line, record);
    }
    for (const joiner of streams.values()) joiner.flush();
    return { events, joined };
  }

  it('gives the same events for random bodies of several streams', () => {
    const lines = [
      'INFO ok',
      'Error: boom',
      '    at f (x.js:1:1)',
      'Caused by: y',
      '... 3 more',
      '}',
      ' ',
      '',
    ];
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let body = 0; body < 1000; body++) {
      // Half the bodies hold one stream, so events grow to their bounds.
      const streams = next(2) === 0 ? 1 : 3;
      const records: IntakeRecord[] = Array.from({ length: 1 + next(60) }, (_, i) => ({
        time: i,
        // Every other line a stack frame, so events grow long.
        line: next(2) === 0 ? '    at f (x.js:1:1)' : lines[next(lines.length)]!,
        ...(next(streams) > 0 ? { task: `t${next(2)}` } : {}),
        ...(next(streams) > 0 ? { container: `c${next(2)}` } : {}),
      }));
      const maxChars = 10 + next(150);
      assert.deepStrictEqual(
        joinRecords(records, PLATFORM_MULTILINE_PARSER, maxChars),
        reference(records, maxChars),
      );
    }
  });
});
