/**
 * Log-line parsing: where a line's timestamp and level are, and where its message starts. Formats
 * differ (syslog, ISO-8601 app logs, JSON lines, the loghub supercomputer and HDFS layouts), so the
 * parser looks for well-known shapes in the header instead of needing a per-format regex.
 */

/** Severity levels, in increasing order of severity. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'NOTICE', 'WARN', 'ERROR', 'CRITICAL', 'FATAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Spellings seen in the wild, mapped onto {@link LOG_LEVELS}. */
const LEVEL_ALIASES: Readonly<Record<string, LogLevel>> = {
  TRACE: 'TRACE',
  DEBUG: 'DEBUG',
  FINE: 'DEBUG',
  INFO: 'INFO',
  NOTICE: 'NOTICE',
  WARN: 'WARN',
  WARNING: 'WARN',
  ERROR: 'ERROR',
  ERR: 'ERROR',
  SEVERE: 'ERROR',
  CRITICAL: 'CRITICAL',
  CRIT: 'CRITICAL',
  ALERT: 'CRITICAL',
  EMERG: 'FATAL',
  FATAL: 'FATAL',
  PANIC: 'FATAL',
  FAILURE: 'FATAL',
};

/** A line split into what the header says and the message itself. */
export interface ParsedLine {
  /** Epoch milliseconds, when the header carries a recognisable timestamp. */
  readonly timestamp?: number;
  /** The level named in the header (or a JSON `level` field). */
  readonly level?: LogLevel;
  /** The message without its header (the whole line when no header was recognised). */
  readonly message: string;
  /**
   * The HTTP status of a request-log line (runtime/request-log.ts: JSON with `"msg":"request"` and a
   * numeric `status`), so scoring can tell the caller's errors from the service's.
   */
  readonly status?: number;
}

/** How many leading tokens may belong to a header; message words further right are never a level. */
const HEADER_TOKENS = 12;

const ISO = /(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?/;
const BGL_TIME = /\b(\d{4})-(\d{2})-(\d{2})-(\d{2})\.(\d{2})\.(\d{2})\.(\d+)/;
const EPOCH_SECONDS = /(?:^|\s)(1\d{9})(?:\.\d+)?(?=\s|$)/;
const YYMMDD_HHMMSS = /^(\d{2})(\d{2})(\d{2}) (\d{2})(\d{2})(\d{2})\b/;
const SYSLOG = /\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})\b/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const JSON_LEVEL = /"(?:level|severity|lvl|log\.level)"\s*:\s*"([A-Za-z]+)"/;
const JSON_MESSAGE = /"(?:msg|message)"\s*:\s*"((?:[^"\\]|\\.)*)"/;
const JSON_STATUS = /"status"\s*:\s*([1-5]\d\d)\b/;
const TIME_TOKEN = /^\d+:\d+(?::\d+)?:?$/;

/** Options for {@link parseLogLine}. */
export interface ParseOptions {
  /** Year for syslog timestamps, which carry none. @default the current UTC year */
  readonly year?: number;
}

/**
 * Extracts timestamp, level and message from one log line.
 *
 * @example
 * parseLogLine('081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating');
 * // { timestamp: 1226263...000, level: 'INFO', message: 'PacketResponder 1 terminating' }
 */
export function parseLogLine(line: string, options: ParseOptions = {}): ParsedLine {
  const head = line.length > 256 ? line.slice(0, 256) : line;
  const timestamp = timestampOf(head, options);
  if (head.charCodeAt(0) === 123 /* { */) return parseJsonLine(line, timestamp);
  // Only the header's tokens are looked at, so only they are cut out: `starts[i]` is where token i
  // begins (tokens are separated by single spaces, as `split(' ')` would see them).
  const tokens: string[] = [];
  const starts: number[] = [];
  let pos = 0;
  let more = true;
  while (more && tokens.length < HEADER_TOKENS) {
    const space = line.indexOf(' ', pos);
    starts.push(pos);
    tokens.push(line.slice(pos, space < 0 ? line.length : space));
    more = space >= 0;
    if (more) pos = space + 1;
  }
  if (more) starts.push(pos); // where the first token after the header begins
  const limit = tokens.length;
  let level: LogLevel | undefined;
  let levelIndex = -1;
  let colonIndex = -1;
  for (let i = 0; i < limit; i++) {
    const token = tokens[i]!;
    if (level === undefined) {
      const found = levelOf(token);
      if (found !== undefined) {
        level = found;
        levelIndex = i;
        continue;
      }
    }
    if (colonIndex < 0 && token.length > 1 && token.endsWith(':') && !TIME_TOKEN.test(token)) {
      colonIndex = i;
      break;
    }
  }
  // The message starts after the component (`crond[42]:`, `dfs.DataNode:`) when one closes the header
  // shortly after the level, else right after the level; a colon far from any level is message text.
  let start = 0;
  if (levelIndex >= 0)
    start = colonIndex > levelIndex && colonIndex <= levelIndex + 2 ? colonIndex + 1 : levelIndex + 1;
  else if (colonIndex >= 0 && timestamp !== undefined) start = colonIndex + 1;
  const message = start === 0 ? line : start < starts.length ? line.slice(starts[start]) : '';
  return compact({ timestamp, level, message });
}

/** The canonical level for a header token such as `ERROR`, `[warn]`, `<E>` or `level=info`. */
export function levelOf(token: string): LogLevel | undefined {
  if (token.length < 3 || token.length > 16) {
    return undefined;
  }
  let word = token;
  const first = word.charCodeAt(0);
  if (first === 91 /* [ */ || first === 60 /* < */ || first === 40 /* ( */) word = word.slice(1, -1);
  else if (word.startsWith('level=')) word = word.slice(6);
  if (word.endsWith(':')) word = word.slice(0, -1);
  // Only upper case or an explicit wrapper counts: `error` in plain prose is message text.
  if (word !== token || token.startsWith('level=')) word = word.toUpperCase();
  return LEVEL_ALIASES[word];
}

function parseJsonLine(line: string, timestamp: number | undefined): ParsedLine {
  const levelMatch = JSON_LEVEL.exec(line);
  const messageMatch = JSON_MESSAGE.exec(line);
  const level = levelMatch ? LEVEL_ALIASES[levelMatch[1]!.toUpperCase()] : undefined;
  let message = line;
  if (messageMatch) {
    try {
      message = JSON.parse(`"${messageMatch[1]}"`) as string;
    } catch {
      message = messageMatch[1]!;
    }
  }
  const parsed = compact({ timestamp, level, message });
  if (message === 'request') {
    const status = JSON_STATUS.exec(line);
    if (status) return { ...parsed, status: Number(status[1]) };
  }
  return parsed;
}

function timestampOf(head: string, options: ParseOptions): number | undefined {
  let m = ISO.exec(head);
  if (m) {
    const parsed = isoMillis(m);
    if (parsed !== undefined) return parsed;
  }
  m = EPOCH_SECONDS.exec(head);
  if (m) return Number(m[1]) * 1000;
  m = BGL_TIME.exec(head);
  if (m) return utc(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, Math.floor(Number(`0.${m[7]}`) * 1000));
  m = YYMMDD_HHMMSS.exec(head);
  if (m) return utc(2000 + +m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, 0);
  m = SYSLOG.exec(head);
  if (m) {
    const year = options.year ?? new Date().getUTCFullYear();
    return utc(year, MONTHS.indexOf(m[1]!) + 1, +m[2]!, +m[3]!, +m[4]!, +m[5]!, 0);
  }
  return undefined;
}

/**
 * Epoch milliseconds of an {@link ISO} match, exactly as `Date.parse` reads the same fields (a day past
 * the month's end rolls over, 24:00:00 is the next midnight, any other out-of-range field is not a
 * date), without building the string `Date.parse` would need.
 */
function isoMillis(m: RegExpExecArray): number | undefined {
  const month = +m[2]!;
  const day = +m[3]!;
  const hour = +m[4]!;
  const minute = +m[5]!;
  const second = +m[6]!;
  const ms = m[7] ? +m[7].slice(0, 3).padEnd(3, '0') : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || minute > 59 || second > 59) return undefined;
  if (hour > 24 || (hour === 24 && (minute > 0 || second > 0 || ms > 0))) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const zoneHours = +zone.slice(1, 3);
    const zoneMinutes = +zone.slice(-2);
    if (zoneHours > 23 || zoneMinutes > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  const year = +m[1]!;
  let t: number;
  if (year >= 100) {
    t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  } else {
    // Date.UTC reads years 0–99 as 1900–1999; setUTCFullYear keeps them as written, as Date.parse does.
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    date.setUTCHours(hour, minute, second, ms);
    t = date.getTime();
  }
  return t - offsetMinutes * 60_000;
}

function utc(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
): number | undefined {
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return Number.isFinite(t) ? t : undefined;
}

function compact(parsed: {
  timestamp: number | undefined;
  level: LogLevel | undefined;
  message: string;
}): ParsedLine {
  const out: { timestamp?: number; level?: LogLevel; message: string } = { message: parsed.message };
  if (parsed.timestamp !== undefined) out.timestamp = parsed.timestamp;
  if (parsed.level !== undefined) out.level = parsed.level;
  return out;
}
