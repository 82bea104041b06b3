import type { ServiceRevisions } from './revisions.ts';

/**
 * `fault SERVICE burst` for a service without a fault switch of its own: the runtime writes error lines
 * with stack traces into the service's current revision's log stream, as a failing app would print
 * them, so they are printed and reach its sidecar like its own output (a local rehearsal only: on AWS
 * nothing but the app writes its logs).
 */

/** The lines of one burst: each an error with its stack frames, as Node prints an uncaught one. */
export function burstLines(count: number): string[] {
  const lines: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    lines.push(
      `Error: fault burst ${i}/${count}: the upstream refused the request (rehearsed by berth fault)`,
      '    at handleRequest (/srv/app/server.js:42:11)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    );
  }
  return lines;
}

/** Writes a burst into `service`'s current revision; throws naming the services when there is none. */
export function burstInto(
  revisions: ReadonlyMap<string, ServiceRevisions>,
  service: string,
  count: number,
): number {
  const list = revisions.get(service);
  if (!list) {
    throw new Error(`no service '${service}' (services: ${[...revisions.keys()].join(', ')})`);
  }
  if (!list.current.app.writeLog(burstLines(count))) {
    throw new Error(`${list.current.label} has not started yet`);
  }
  return count;
}
