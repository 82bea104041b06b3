import { readFileSync } from 'node:fs';

/**
 * Test helper: reads a JSON event fixture from `functions/<name>/events/`, parsed fresh each call so a
 * test may modify its copy.
 */
export function loadEvent<T = Record<string, unknown>>(
  fn: 'predict' | 'log-scorer' | 'remediate' | 'deployment-gate',
  file: string,
): T {
  return JSON.parse(readFileSync(new URL(`../${fn}/events/${file}`, import.meta.url), 'utf8')) as T;
}
