import { FIRELENS_FIELDS } from '../../../contracts/firelens.ts';

/**
 * Parsing of Fluent Bit `http` output bodies (contracts/firelens.ts), framework-free. FireLens records look like
 * `{"date":1718000000.123,"log":"…","container_name":"app","source":"stdout","ecs_task_arn":"…",
 * "ecs_cluster":"…"}`; `format json` sends an array of them, `format json_lines` one per line.
 *
 * Every record either becomes an {@link IntakeRecord} or is counted under a {@link RejectReason}:
 * a hostile record is skipped, never the body it came in.
 */

/** Longest metadata value kept (container name, task ARN…); CloudWatch names allow 512. */
const MAX_FIELD_CHARS = 512;

/** One accepted log record. */
export interface IntakeRecord {
  /** When Fluent Bit read the line, epoch milliseconds (`date`; the receive time when absent). */
  readonly time: number;
  /** The line as the app wrote it (`log`, or `message` when a parser filter renamed it). */
  readonly line: string;
  readonly container?: string;
  readonly task?: string;
  readonly cluster?: string;
  readonly source?: string;
}

/** Why a record was skipped. */
export type RejectReason = 'malformed' | 'oversized';

/** What one body yielded. */
export interface IntakeResult {
  readonly records: IntakeRecord[];
  readonly rejected: Record<RejectReason, number>;
}

/** Fluent Bit output formats the sidecar understands. */
export type IntakeFormat = 'json' | 'json_lines';

/** A body that cannot be read at all (not one record could be delimited). */
export class IntakeBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntakeBodyError';
  }
}

/** Options for {@link parseIntakeBody}. */
export interface IntakeOptions {
  /** Longest accepted line, in characters; longer records are counted as `oversized`. */
  readonly maxLineChars: number;
  /** Receive time used for records without a usable `date`. */
  readonly now: number;
}

/**
 * The format of a body, from its media type and, for `application/json`, its first character: some
 * Fluent Bit versions label `json_lines` as `application/json`, and a lone record is valid either way.
 */
export function intakeFormatOf(contentType: string | undefined, body: string): IntakeFormat {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'application/x-ndjson' || mediaType === 'application/jsonl') return 'json_lines';
  if (mediaType.endsWith('ndjson') || mediaType.endsWith('json-seq')) return 'json_lines';
  return firstNonSpace(body) === '[' ? 'json' : 'json_lines';
}

/** Whether a media type is one the intake accepts (JSON or newline-delimited JSON). */
export function isIntakeMediaType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    mediaType === 'application/json' ||
    mediaType.endsWith('+json') ||
    mediaType === 'application/x-ndjson' ||
    mediaType === 'application/jsonl' ||
    mediaType.endsWith('ndjson')
  );
}

/**
 * Parses a body into records.
 *
 * @throws IntakeBodyError when a `json` body is not a JSON array, or a `json_lines` body holds no line
 *   at all (nothing to count per record)
 * @example
 * parseIntakeBody('[{"date":1718000000.5,"log":"hello"}]', 'json', { maxLineChars: 65536, now: Date.now() });
 * // { records: [{ time: 1718000000500, line: 'hello' }], rejected: { malformed: 0, oversized: 0 } }
 */
export function parseIntakeBody(body: string, format: IntakeFormat, options: IntakeOptions): IntakeResult {
  const result: IntakeResult = { records: [], rejected: { malformed: 0, oversized: 0 } };
  const shared = new SharedFields();
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (error) {
      throw new IntakeBodyError(`body is not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(value)) {
      // A single record object is what `json_lines` with one record looks like; accept it as such.
      if (isObject(value)) {
        accept(value, options, result, shared);
        return result;
      }
      throw new IntakeBodyError('a format json body must be a JSON array of records');
    }
    for (const item of value) accept(item, options, result, shared);
    return result;
  }
  let start = 0;
  let lines = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    const text = body.slice(start, end).trim();
    start = end + 1;
    if (text === '') continue;
    lines += 1;
    // A line longer than any record can be is rejected before JSON.parse spends time on it.
    if (text.length > options.maxLineChars * 6 + 64 * 1024) {
      result.rejected.oversized += 1;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      result.rejected.malformed += 1;
      continue;
    }
    accept(value, options, result, shared);
  }
  if (lines === 0) throw new IntakeBodyError('body holds no records');
  return result;
}

/**
 * The metadata values of a body's records (task ARN, container, cluster, source) are mostly the same
 * from record to record, yet JSON.parse gives every record its own copy. A record keeps the copy of the
 * record before it when they are equal, so the queue holds one string per value instead of one per
 * record, and the copies die young (cheap to collect) instead of living in the queue.
 */
class SharedFields {
  container: string | undefined;
  task: string | undefined;
  cluster: string | undefined;
  source: string | undefined;
}

function accept(item: unknown, options: IntakeOptions, result: IntakeResult, shared: SharedFields): void {
  if (!isObject(item)) {
    result.rejected.malformed += 1;
    return;
  }
  const line =
    typeof item[FIRELENS_FIELDS.log] === 'string' ? item[FIRELENS_FIELDS.log] : item[FIRELENS_FIELDS.message];
  if (typeof line !== 'string') {
    result.rejected.malformed += 1;
    return;
  }
  if (line.length > options.maxLineChars) {
    result.rejected.oversized += 1;
    return;
  }
  const record: {
    time: number;
    line: string;
    container?: string;
    task?: string;
    cluster?: string;
    source?: string;
  } = { time: timeOf(item[FIRELENS_FIELDS.date], options.now), line };
  const container = field(item[FIRELENS_FIELDS.container]);
  if (container !== undefined) {
    if (container !== shared.container) shared.container = container;
    record.container = shared.container;
  }
  const task = field(item[FIRELENS_FIELDS.task]);
  if (task !== undefined) {
    if (task !== shared.task) shared.task = task;
    record.task = shared.task;
  }
  const cluster = field(item[FIRELENS_FIELDS.cluster]);
  if (cluster !== undefined) {
    if (cluster !== shared.cluster) shared.cluster = cluster;
    record.cluster = shared.cluster;
  }
  const source = field(item[FIRELENS_FIELDS.source]);
  if (source !== undefined) {
    if (source !== shared.source) shared.source = source;
    record.source = shared.source;
  }
  result.records.push(record);
}

/** Fluent Bit sends `date` as epoch seconds (`json_date_format double`, the default) or ISO-8601. */
function timeOf(date: unknown, now: number): number {
  let ms = Number.NaN;
  if (typeof date === 'number') ms = date * 1000;
  else if (typeof date === 'string' && date.length <= 64) {
    ms = /^\d+(\.\d+)?$/.test(date) ? Number(date) * 1000 : Date.parse(date);
  }
  // Anything outside what a Date can hold would later fail toISOString(); keep the receive time instead.
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? Math.round(ms) : now;
}

function field(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD_CHARS ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstNonSpace(text: string): string {
  for (let i = 0; i < text.length && i < 4096; i++) {
    const c = text[i]!;
    if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t' && c !== '\uFEFF') return c;
  }
  return '';
}
