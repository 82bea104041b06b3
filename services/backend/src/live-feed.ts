import { anomalyKey } from '../../../contracts/anomaly-key.ts';
import type { ServicesResponse } from '../../../contracts/console-api.ts';
import { LIVE_EVENT_TYPES, type LiveEvent } from '../../../contracts/console-ops.ts';
import { ApiError } from '../../../contracts/errors.ts';
import type { AnomalySource } from './anomaly-source.ts';
import type { ServiceTarget } from './config.ts';
import type { OperationsSource } from './operations-source.ts';

/** Options for {@link LiveFeed}. */
export interface LiveFeedOptions {
  readonly services: readonly ServiceTarget[];
  readonly anomalies: AnomalySource;
  readonly operations: OperationsSource;
  /** How often the anomaly source is read while someone listens (locally: each sidecar). */
  readonly anomalyPollMs: number;
  /** How often health is checked; a service going down shows within one interval. */
  readonly healthIntervalMs: number;
  /** How often deployments, alarms and capacity are read. */
  readonly operationsIntervalMs: number;
  /** Records kept for a newly connected console. @default 100 */
  readonly recentLimit?: number;
}

type Listener = (event: LiveEvent) => void;

/**
 * The backend's one poller behind `GET /api/events`: it reads the sources on its own timers only
 * while at least one console listens, and fans the changes out to every listener. So N open consoles
 * cost one set of sidecar calls, not N, and an idle backend polls nothing.
 *
 * @example
 * const feed = new LiveFeed({ services, anomalies, operations, anomalyPollMs: 500, healthIntervalMs: 5000, operationsIntervalMs: 5000 });
 * const stop = feed.subscribe((event) => send(event));
 */
export class LiveFeed {
  private readonly options: LiveFeedOptions;
  private readonly listeners = new Set<Listener>();
  private timers: NodeJS.Timeout[] = [];
  private readonly seen = new Set<string>();
  private latest = new Map<LiveEvent['type'], LiveEvent>();
  private unavailableJson = '[]';
  private readonly busy = new Set<string>();

  constructor(options: LiveFeedOptions) {
    this.options = options;
  }

  /** Calls `listener` with the latest state at once, then with every change; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    for (const event of this.snapshot()) listener(event);
    if (this.listeners.size === 1) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /**
   * The latest state, one event per type in {@link LIVE_EVENT_TYPES} order (the anomalies event holds
   * the recent list). An event object is replaced only when its content changes, so a caller may
   * cache what it derives from one (the stream's serialised frame).
   */
  snapshot(): LiveEvent[] {
    return LIVE_EVENT_TYPES.flatMap((type) => {
      const event = this.latest.get(type);
      return event ? [event] : [];
    });
  }

  /** How many consoles listen (for tests and the request log). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    const every = (ms: number, job: string, run: () => Promise<void>) => {
      const tick = () => {
        // A slow source must not stack up calls: skip a tick while the previous one still runs.
        if (this.busy.has(job)) return;
        this.busy.add(job);
        run()
          .catch(() => undefined)
          .finally(() => this.busy.delete(job));
      };
      tick();
      const timer = setInterval(tick, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.anomalyPollMs, 'anomalies', () => this.pollAnomalies());
    every(this.options.healthIntervalMs, 'health', () => this.pollHealth());
    every(this.options.operationsIntervalMs, 'operations', () => this.pollOperations());
  }

  private stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  private emit(event: LiveEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private async pollAnomalies(): Promise<void> {
    const names = this.options.services.map((s) => s.name);
    const limit = this.options.recentLimit ?? 100;
    const { records, unavailable } = await this.options.anomalies.recentAnomalies(names, limit);
    const fresh = records.filter((r) => !this.seen.has(anomalyKey(r)));
    for (const record of fresh) this.seen.add(anomalyKey(record));
    // Forget keys that have left every source's window, so the set stays bounded.
    if (this.seen.size > limit * 20) {
      this.seen.clear();
      for (const record of records) this.seen.add(anomalyKey(record));
    }
    const unavailableJson = JSON.stringify(unavailable);
    if (fresh.length > 0 || unavailableJson !== this.unavailableJson || !this.latest.has('anomalies')) {
      this.unavailableJson = unavailableJson;
      // Late joiners get the whole recent list; listeners already connected get only what is new.
      this.latest.set('anomalies', { type: 'anomalies', data: { records, unavailable } });
      this.emit({ type: 'anomalies', data: { records: fresh, unavailable } });
    }
  }

  private async pollHealth(): Promise<void> {
    let data: ServicesResponse;
    try {
      const health = await this.options.operations.serviceHealth();
      data = {
        anomalySource: this.options.anomalies.kind,
        healthSource: health.healthSource,
        services: health.services,
      };
    } catch (error) {
      // ECS unreachable or access denied: say so on every card rather than keep showing old health.
      const detail = error instanceof ApiError ? error.message : 'the health source failed';
      const checkedAt = new Date().toISOString();
      data = {
        anomalySource: this.options.anomalies.kind,
        services: this.options.services.map((s) => ({ name: s.name, health: 'unknown', detail, checkedAt })),
      };
    }
    const event: LiveEvent = { type: 'services', data };
    this.latest.set('services', event);
    // Every interval, not only on change: the console shows when health was last checked.
    this.emit(event);
  }

  private async pollOperations(): Promise<void> {
    const [deployments, alarms, capacity] = await Promise.allSettled([
      this.options.operations.deployments(),
      this.options.operations.alarms(),
      this.options.operations.capacity(),
    ]);
    if (deployments.status === 'fulfilled') {
      this.emitIfChanged({ type: 'deployments', data: deployments.value });
    }
    if (alarms.status === 'fulfilled') this.emitIfChanged({ type: 'alarms', data: alarms.value });
    // Capacity (locally: the processes) changes during a deployment; pushed like the rest.
    if (capacity.status === 'fulfilled') this.emitIfChanged({ type: 'capacity', data: capacity.value });
  }

  private emitIfChanged(event: LiveEvent): void {
    const previous = this.latest.get(event.type);
    if (previous && JSON.stringify(previous.data) === JSON.stringify(event.data)) return;
    this.latest.set(event.type, event);
    this.emit(event);
  }
}
