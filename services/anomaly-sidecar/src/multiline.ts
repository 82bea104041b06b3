import type { IntakeRecord } from './intake.ts';

/**
 * Multi-line events (a stack trace, a dumped object) joined into one record before scoring (issue 25:
 * each line of a stack trace was scored alone). The rules are a regex multiline parser in Fluent Bit's
 * own format and semantics (src/multiline/flb_ml_rule.c of 1.9): while an event is open, a line
 * matching a rule reachable from its state continues it (joined with `\n`); otherwise a line matching a
 * start rule flushes the open event and opens a new one; otherwise the open event is flushed and the
 * line goes alone. An event never waits for a later body (joinRecords), so Fluent Bit's
 * `flush_timeout` has no part here.
 * The join happens here, in the sidecar, for records from FireLens on AWS and from the local log router alike: Fluent Bit 1.9.10's
 * multiline filter stalled the router's delivery under load (measured: under 25k of 200k lines
 * delivered in minutes at 20k lines/s, with memory or filesystem emitter), and delivery comes first.
 */

/** One `rule "state" "/regex/" "next"` line of a `[MULTILINE_PARSER]`. */
export interface MultilineRule {
  readonly state: string;
  readonly pattern: RegExp;
  readonly next: string;
}

/** A regex multiline parser: its rules. */
export interface MultilineParser {
  readonly name: string;
  readonly rules: readonly MultilineRule[];
}

/**
 * Reads the `[MULTILINE_PARSER]` named `name` from Fluent Bit's classic config text. Throws on a
 * parser that is missing, not `type regex`, or has no `start_state` rule.
 */
export function parseMultilineParser(text: string, name: string): MultilineParser {
  const sections = text.split(/^\[MULTILINE_PARSER\]\s*$/m).slice(1);
  for (const section of sections) {
    const body = section.split(/^\[/m)[0]!;
    const entries = body
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const value = (key: string) =>
      entries.find((e) => e.split(/\s+/)[0]!.toLowerCase() === key)?.replace(/^\S+\s+/, '');
    if (value('name') !== name) continue;
    if (value('type') !== 'regex') throw new Error(`multiline parser ${name}: only type regex is read here`);
    const rules = entries
      .filter((e) => e.toLowerCase().startsWith('rule '))
      .map((e) => {
        const quoted = [...e.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
        const [state, regex, next] = quoted;
        const slashed = regex !== undefined ? /^\/(.*)\/$/.exec(regex) : null;
        if (!state || !slashed || !next) throw new Error(`multiline parser ${name}: bad rule: ${e}`);
        return { state, pattern: new RegExp(slashed[1]!), next };
      });
    if (!rules.some((r) => r.state === 'start_state')) {
      throw new Error(`multiline parser ${name}: no start_state rule`);
    }
    return { name, rules };
  }
  throw new Error(`no [MULTILINE_PARSER] named ${name}`);
}

/**
 * The platform's parser, written as a Fluent Bit `[MULTILINE_PARSER]` would be (`type regex`): a line
 * that starts at column 0 starts an event; an indented line (a stack frame, a field of a dumped object),
 * a "Caused by:" line, a "... N more" line or a closing bracket continues it.
 */
export const PLATFORM_MULTILINE_PARSER_CONF = `[MULTILINE_PARSER]
    name          platform-multiline
    type          regex
    rule          "start_state"   "/^\\S/"                                           "cont"
    rule          "cont"          "/^(\\s+\\S|Caused by: |\\.\\.\\. \\d+ more|[\\]\\}\\)])/"  "cont"
`;

/** {@link PLATFORM_MULTILINE_PARSER_CONF}, parsed. */
export const PLATFORM_MULTILINE_PARSER: MultilineParser = parseMultilineParser(
  PLATFORM_MULTILINE_PARSER_CONF,
  'platform-multiline',
);

/** Most lines one event takes; a longer run of continuation lines is cut into several events. */
const MAX_EVENT_LINES = 500;

/**
 * Joins the records of one intake body into events, per stream (one container of one task: FireLens
 * tags a container's stdout and stderr alike, so they are one stream), in the order they end. An event
 * never crosses bodies: the router sends a stack trace written at once in one body (one flush, 0.2 s),
 * and holding a body's last line for a continuation would delay every stream's last line by the
 * timeout. An event takes the first line's fields, its lines joined with `\n`, and never grows past
 * `maxChars` or MAX_EVENT_LINES lines.
 *
 * Without a timer and without an object per line: this runs on every record the sidecar receives, and
 * a timer armed per line (the line-by-line joiner it replaced, kept as the test's reference) was a
 * large share of its allocations (benchmark: README).
 * @returns the events, and how many records were joined into the one before them
 */
export function joinRecords(
  records: readonly IntakeRecord[],
  parser: MultilineParser,
  maxChars: number,
): { readonly events: IntakeRecord[]; readonly joined: number } {
  const starts = parser.rules.filter((r) => r.state === 'start_state');
  const continuations = new Map<string, MultilineRule[]>();
  for (const rule of parser.rules) {
    if (rule.state === 'start_state') continue;
    const list = continuations.get(rule.state) ?? [];
    list.push(rule);
    continuations.set(rule.state, list);
  }
  const events: IntakeRecord[] = [];
  let joined = 0;
  const flush = (stream: OpenStream) => {
    const first = stream.first;
    if (first === undefined) return;
    if (stream.more === undefined) events.push(first);
    else {
      joined += stream.more.length;
      events.push({ ...first, line: `${first.line}\n${stream.more.join('\n')}` });
    }
    stream.first = undefined;
    stream.more = undefined;
    stream.rule = undefined;
    stream.lines = 0;
    stream.chars = 0;
  };
  // Streams in the order they first appear (the order open events close in at the end); the last one
  // is looked up without building its key, since a body mostly holds one stream.
  const streams = new Map<string, OpenStream>();
  let last: OpenStream | undefined;
  for (const record of records) {
    let stream = last;
    if (stream === undefined || stream.task !== record.task || stream.container !== record.container) {
      const key = `${record.task ?? ''}|${record.container ?? ''}`;
      stream = streams.get(key);
      if (stream === undefined) {
        stream = {
          task: record.task,
          container: record.container,
          first: undefined,
          more: undefined,
          rule: undefined,
          lines: 0,
          chars: 0,
        };
        streams.set(key, stream);
      }
      last = stream;
    }
    const line = record.line;
    if (stream.lines >= MAX_EVENT_LINES || (stream.lines > 0 && stream.chars + line.length > maxChars)) {
      flush(stream);
    }
    if (stream.rule !== undefined) {
      // The rules reachable from the last rule matched: those whose state is its `next`.
      const continued = firstMatch(continuations.get(stream.rule.next), line);
      if (continued) {
        if (stream.more === undefined) stream.more = [line];
        else stream.more.push(line);
        stream.rule = continued;
        stream.lines += 1;
        stream.chars += line.length + 1;
        continue;
      }
    }
    const start = firstMatch(starts, line);
    flush(stream);
    if (start) {
      stream.first = record;
      stream.rule = start;
      stream.lines = 1;
      stream.chars = line.length + 1;
    } else events.push(record);
  }
  for (const stream of streams.values()) flush(stream);
  return { events, joined };
}

/** One stream's open event in {@link joinRecords}: its first record and the lines that continue it. */
interface OpenStream {
  readonly task: string | undefined;
  readonly container: string | undefined;
  first: IntakeRecord | undefined;
  more: string[] | undefined;
  rule: MultilineRule | undefined;
  lines: number;
  chars: number;
}

function firstMatch(rules: readonly MultilineRule[] | undefined, line: string): MultilineRule | undefined {
  if (rules === undefined) return undefined;
  for (const rule of rules) if (rule.pattern.test(line)) return rule;
  return undefined;
}
