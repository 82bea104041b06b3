import type { ServiceAlerts, ServiceStatus } from '../../../contracts/console-api.ts';
import type { AnomalySource } from './anomaly-source.ts';
import type { ServiceTarget } from './config.ts';

/** The window the console measures a service's alert rate over: the last hour, in one-minute buckets. */
export const ALERT_WINDOW = { bucketSeconds: 60, buckets: 60 } as const;
/**
 * How long one service's rate is reused: it moves slowly, and on AWS each refresh is a CloudWatch
 * `GetMetricData` call, which the health push every 5 s would otherwise make 12 times a minute.
 */
export const ALERT_RATE_TTL_MS = 60_000;

/**
 * Each scored service's declared alert budget (from the service directory) beside the alert rate its
 * anomaly series shows over {@link ALERT_WINDOW}: the console's answer to "is this service within its
 * budget?". A series that cannot be read is said so, never shown as a rate of 0.
 */
export class AlertRates {
  private readonly cache = new Map<string, { at: number; alerts: ServiceAlerts }>();

  constructor(
    private readonly options: {
      readonly services: readonly ServiceTarget[];
      readonly anomalies: AnomalySource;
      readonly clock?: () => number;
    },
  ) {}

  /** The statuses with each scored service's `alerts` added, in the same order. */
  async attach(statuses: readonly ServiceStatus[], signal?: AbortSignal): Promise<ServiceStatus[]> {
    return Promise.all(
      statuses.map(async (status) => {
        const target = this.options.services.find((s) => s.name === status.name);
        if (target?.alertBudget === undefined) return status;
        return { ...status, alerts: await this.alertsOf(target.name, target.alertBudget, signal) };
      }),
    );
  }

  private async alertsOf(service: string, budget: number, signal?: AbortSignal): Promise<ServiceAlerts> {
    const now = (this.options.clock ?? Date.now)();
    const cached = this.cache.get(service);
    if (cached && now - cached.at < ALERT_RATE_TTL_MS) return cached.alerts;
    const windowMinutes = (ALERT_WINDOW.bucketSeconds * ALERT_WINDOW.buckets) / 60;
    let alerts: ServiceAlerts;
    try {
      const { points } = await this.options.anomalies.series(service, ALERT_WINDOW, signal);
      let scored = 0;
      let anomalous = 0;
      for (const p of points) {
        scored += p.scored;
        anomalous += p.anomalous;
      }
      alerts = { budget, windowMinutes, scored, anomalous };
    } catch {
      // Not cached: the next push tries again.
      return { budget, windowMinutes, unavailable: 'the anomaly series could not be read' };
    }
    this.cache.set(service, { at: now, alerts });
    return alerts;
  }
}
