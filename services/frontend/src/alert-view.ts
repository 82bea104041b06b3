import type { ServiceAlerts } from '../../../contracts/console-api.ts';

/**
 * What a service card says about its alerts: the rate its anomaly series shows over the backend's
 * window against the service's declared alert budget (contracts/alert-budget.ts), and whether it is
 * over. A missing or empty series is said so, never shown as a rate of 0.
 */
export function alertSummary(alerts: ServiceAlerts): { readonly text: string; readonly over: boolean } {
  const budget = `budget ${percent(alerts.budget)}`;
  if (alerts.unavailable !== undefined || alerts.scored === undefined || alerts.anomalous === undefined) {
    return { text: `alert rate unavailable · ${budget}`, over: false };
  }
  const window = `(${alerts.windowMinutes} min)`;
  if (alerts.scored === 0) return { text: `no lines scored ${window} · ${budget}`, over: false };
  const rate = alerts.anomalous / alerts.scored;
  return {
    text: `alerts ${percent(rate)} of ${alerts.scored.toLocaleString('en-US')} lines ${window} · ${budget}`,
    over: rate > alerts.budget,
  };
}

/** A share as a percentage with at most three significant digits: 0.0116 → `1.16 %`. */
export function percent(share: number): string {
  return `${Number((share * 100).toPrecision(3))} %`;
}
