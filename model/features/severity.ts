import type { LogLevel, ParsedLine } from './parse.ts';

/**
 * Severity of a line in 0..1, from its level and, when the level is missing or mild, from failure
 * words in the message (many daemons log failures at INFO or without a level at all).
 */

const LEVEL_SEVERITY: Readonly<Record<LogLevel, number>> = {
  TRACE: 0,
  DEBUG: 0,
  INFO: 0,
  NOTICE: 0.1,
  WARN: 0.4,
  ERROR: 0.7,
  CRITICAL: 0.9,
  FATAL: 1,
};

// Word stems that signal a failure whatever the level says. Matched case-insensitively on word starts
// so `Failed`, `failure`, `Exception`, `timed out` all count; compiled once.
const FAILURE_WORDS =
  /\b(?:fail|error|exception|fatal|panic|abort|crash|corrupt|denied|refused|unreachable|timed? ?out|segfault|killed|oom|cannot|can't|unable|lost|invalid|critical|violation|traceback)/i;

/** Severity of a failure word in a line without a level (half that under an explicit mild level). */
export const FAILURE_WORD_SEVERITY = 0.35;

/** What made a line severe: the level, a failure word, or both. */
export interface Severity {
  /** 0 (routine) .. 1 (fatal). */
  readonly score: number;
  /** The level's own contribution in 0..1 (0 when there is no level). */
  readonly level: number;
  /** Whether the message contains a failure word. */
  readonly failureWord: boolean;
}

/**
 * Severity from a level and a message.
 *
 * @example
 * severityOf(undefined, 'connection refused by 10.0.0.1').score; // 0.35
 */
export function severityOf(level: LogLevel | undefined, message: string): Severity {
  const fromLevel = level === undefined ? 0 : LEVEL_SEVERITY[level];
  const failureWord = FAILURE_WORDS.test(message);
  // A failure word is weaker evidence than a level: routine lines say "failed" too (retries, probes),
  // and a logger that chose INFO or DEBUG has said the line is not an error.
  const fromWord = failureWord
    ? level === undefined
      ? FAILURE_WORD_SEVERITY
      : FAILURE_WORD_SEVERITY / 2
    : 0;
  return { score: Math.max(fromLevel, fromWord), level: fromLevel, failureWord };
}

/**
 * Whether a line is a request-log line of an answer the caller caused (4xx): a bad request, a missing
 * resource, a refused key, a rate limit. The service logged it at WARN because it refused the request,
 * not because it is unwell, and a flood of them must not raise the service's anomaly rate.
 */
export function isClientError(parsed: Pick<ParsedLine, 'status'>): boolean {
  return parsed.status !== undefined && parsed.status >= 400 && parsed.status < 500;
}

/** The level a line is scored at: a client-caused error counts as INFO, whatever the logger said. */
export function scoringLevel(parsed: Pick<ParsedLine, 'level' | 'status'>): LogLevel | undefined {
  return isClientError(parsed) ? 'INFO' : parsed.level;
}
