import type { AnomalyRecord } from './anomaly.ts';

/**
 * Identity of one anomaly record across polls and reconnects: the backend's live feed and the console
 * both dedupe by it. Dependency-free, so the console can import it without pulling zod into the bundle.
 */
export function anomalyKey(record: AnomalyRecord): string {
  return `${record.service}|${record.task}|${record.timestamp}|${record.line.slice(0, 200)}`;
}
