import { anomalyKey } from '../../../contracts/anomaly-key.ts';
import type { AnomalyRecord } from '../../../contracts/console-api.ts';

/**
 * Pure helpers behind the anomaly table: merging pushed records into the list, the compact row's
 * fields, and the filters. Kept apart from the components so they are tested without a browser.
 */

/** The most records the console keeps; older ones are dropped first. */
export const MAX_RECORDS = 500;

/**
 * Newest first, duplicates (a reconnect resends the recent list) dropped. A record already shown keeps
 * its object, so its row (and a focused or expanded control in it) is not rebuilt.
 */
export function mergeAnomalies(
  current: readonly AnomalyRecord[],
  incoming: readonly AnomalyRecord[],
  max = MAX_RECORDS,
): AnomalyRecord[] {
  const byKey = new Map<string, AnomalyRecord>();
  for (const record of [...current, ...incoming]) {
    const key = anomalyKey(record);
    if (!byKey.has(key)) byKey.set(key, record);
  }
  return [...byKey.values()].sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp)).slice(0, max);
}

/**
 * The message's first line: a JSON log line's `msg`/`message` field when it has one, else the raw
 * line up to its first newline (stack traces start on the second).
 */
export function firstLine(line: string): string {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      const message = parsed.msg ?? parsed.message;
      if (typeof message === 'string' && message.length > 0) return message.split('\n')[0]!;
    } catch {
      // Not JSON after all (a truncated record): fall through to the raw line.
    }
  }
  return trimmed.split('\n')[0]!;
}

/** The full line for the details view: JSON pretty-printed (stack traces unescaped), else as is. */
export function fullText(line: string): string {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return line;
  try {
    const parsed = JSON.parse(trimmed) as Record<string, unknown>;
    const stack = typeof parsed.stack === 'string' ? `\n\n${parsed.stack}` : '';
    return `${JSON.stringify(parsed, null, 2)}${stack}`;
  } catch {
    return line;
  }
}

/** `severity:ERROR` among the reasons (the model's own parse), else the JSON line's level. */
export function severityOf(record: AnomalyRecord): string {
  const reason = record.reasons?.find((r) => r.startsWith('severity:'));
  if (reason) return reason.slice('severity:'.length).toUpperCase();
  const level = /"level"\s*:\s*"([a-z]+)"/i.exec(record.line)?.[1];
  return level ? level.toUpperCase() : 'UNKNOWN';
}

export interface AnomalyFilters {
  readonly service: string;
  readonly revision: string;
  readonly severity: string;
  /** Only records newer than this many minutes; 0 for any age. */
  readonly withinMinutes: number;
}

export const ALL = '';
export const NO_FILTERS: AnomalyFilters = { service: ALL, revision: ALL, severity: ALL, withinMinutes: 0 };

export function filterAnomalies(
  records: readonly AnomalyRecord[],
  filters: AnomalyFilters,
  now: number,
): AnomalyRecord[] {
  const since = filters.withinMinutes > 0 ? now - filters.withinMinutes * 60_000 : Number.NEGATIVE_INFINITY;
  return records.filter(
    (r) =>
      (filters.service === ALL || r.service === filters.service) &&
      (filters.revision === ALL || (r.revision ?? '') === filters.revision) &&
      (filters.severity === ALL || severityOf(r) === filters.severity) &&
      Date.parse(r.timestamp) >= since,
  );
}

/** The values a filter can take, from the records at hand, sorted. */
export function optionsOf(records: readonly AnomalyRecord[], pick: (r: AnomalyRecord) => string): string[] {
  return [...new Set(records.map(pick).filter((v) => v.length > 0))].sort();
}
