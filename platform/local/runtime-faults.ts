import { type EdgeFaultSettings, failureLines, WORKER_FAILURES_PER_SECOND } from './edge-fault.ts';
import type { ServiceRevisions } from './revisions.ts';

/**
 * The faults the local runtime rehearses for services without a fault switch of their own, driven
 * through its control endpoint by `fault SERVICE burst|on RATE|off|status`: a burst of error lines
 * written into the service's log stream now; an edge fault that fails RATE of its requests at the local
 * ALB and its service address (edge-fault.ts, applied where its revisions are picked); for a worker,
 * which answers no requests, error lines paced at RATE × {@link WORKER_FAILURES_PER_SECOND} a second.
 * Lines are written as a failing app would print them, so they are printed and reach its sidecar like
 * its own output (a local rehearsal only: on AWS nothing but the app writes its logs).
 */

/** What `fault SERVICE on|off|status` answers for a runtime-rehearsed fault. */
export interface RuntimeFaultState extends EdgeFaultSettings {
  readonly service: string;
  /** The revision it is on: the one in service (it follows a completed deployment). */
  readonly revision: string;
  /** `requests`: RATE of its requests fail at the edge; `log lines`: a worker, paced error lines. */
  readonly fails: 'requests' | 'log lines';
  readonly by: 'the local runtime';
}

/** How often a worker's paced failures are written. */
const PACE_MS = 100;

/** The lines of one burst: each an error with its stack frames. */
export function burstLines(count: number): string[] {
  const lines: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    lines.push(
      ...failureLines(
        `fault burst ${i}/${count}: the upstream refused the request (rehearsed by berth fault)`,
      ),
    );
  }
  return lines;
}

export class RuntimeFaults {
  /** A timer per worker whose fault is on. */
  private readonly pacers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly revisions: ReadonlyMap<string, ServiceRevisions>) {}

  /** Writes `count` error lines into `service`'s current revision now; throws for an unknown service. */
  burst(service: string, count: number): number {
    const { current } = this.revisionsOf(service);
    if (!current.app.writeLog(burstLines(count))) throw new Error(`${current.label} has not started yet`);
    return count;
  }

  /** Switches `service`'s fault on at `errorRate` for `durationSeconds`, or off with 0. */
  set(service: string, errorRate: number, durationSeconds: number): RuntimeFaultState {
    const list = this.revisionsOf(service);
    list.fault.set(errorRate, durationSeconds);
    if (isWorker(list)) this.pace(service, list);
    return this.state(service);
  }

  state(service: string): RuntimeFaultState {
    const list = this.revisionsOf(service);
    return {
      service,
      revision: list.inService.label,
      fails: isWorker(list) ? 'log lines' : 'requests',
      ...list.fault.settings(),
      by: 'the local runtime',
    };
  }

  /** Stops every paced fault (the runtime is stopping). */
  close(): void {
    for (const timer of this.pacers.values()) clearInterval(timer);
    this.pacers.clear();
  }

  /** Writes a worker's failures at its rate until it is off or expired, into the revision in service. */
  private pace(service: string, list: ServiceRevisions): void {
    clearInterval(this.pacers.get(service));
    this.pacers.delete(service);
    if (list.fault.rate === 0) return;
    // RATE × 10 a second is RATE per 100 ms tick: failures owed after n ticks are ⌊n × RATE⌋, counted
    // from whole ticks (rounded to a millionth) so a sum of 0.3s does not lose one to floating point.
    let ticks = 0;
    let written = 0;
    const timer = setInterval(() => {
      const rate = list.fault.rate;
      if (rate === 0) {
        clearInterval(timer);
        this.pacers.delete(service);
        return;
      }
      ticks += 1;
      const perTick = (rate * WORKER_FAILURES_PER_SECOND * PACE_MS) / 1000;
      const owed = Math.floor(Math.round(ticks * perTick * 1e6) / 1e6);
      for (; written < owed; written += 1) list.fault.record(list.inService.app, 'job');
    }, PACE_MS);
    timer.unref();
    this.pacers.set(service, timer);
  }

  private revisionsOf(service: string): ServiceRevisions {
    const list = this.revisions.get(service);
    if (!list) {
      throw new Error(`no service '${service}' (services: ${[...this.revisions.keys()].join(', ')})`);
    }
    return list;
  }
}

/** A worker listens on no port: nothing sends it requests to fail. */
function isWorker(list: ServiceRevisions): boolean {
  return list.inService.app.plan.port === null;
}
