import type { AnomalyRecord } from './anomaly.ts';

/**
 * Identity of one anomaly record across polls and reconnects: the backend's live feed and the console
 * both dedupe by it. The record's `id` is unique within its service and task, so identical lines
 * logged in the same millisecond stay distinct. Dependency-free, so the console can import it without
 * pulling zod into the bundle.
 */
export function anomalyKey(record: Pick<AnomalyRecord, 'service' | 'task' | 'id'>): string {
  return `${record.service}|${record.task}|${record.id}`;
}
