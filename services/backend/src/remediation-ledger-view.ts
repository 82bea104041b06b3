import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { RemediationAction, RemediationResponse } from '../../../contracts/console-ops.ts';

/** The remediate Lambda's settings (functions/remediate/handler.ts), needed to read its ledger. */
export interface LedgerSettings {
  readonly cooldownSeconds: number;
  readonly maxActionsPerWindow: number;
  readonly windowSeconds: number;
  readonly nowMs: number;
}

/**
 * From the remediation ledger's items (functions/remediate/ledger.ts) to the console's view:
 *
 * - `resource#<key>` with `lastActionAt` (epoch seconds) and `lastEventId`: one remediated resource;
 *   it is cooling down until `lastActionAt + cooldown`. Optional `lastAction` and `lastReason`
 *   strings are shown when the ledger has them.
 * - `window#<start>` with `actions`: the budget used in that fixed window; only the current one counts.
 */
export function toRemediationResponse(
  items: readonly Record<string, AttributeValue>[],
  settings: LedgerSettings,
): RemediationResponse {
  const nowSeconds = Math.floor(settings.nowMs / 1000);
  const windowStart = nowSeconds - (nowSeconds % settings.windowSeconds);
  let used = 0;
  const actions: RemediationAction[] = [];
  for (const item of items) {
    const pk = item.pk?.S ?? '';
    if (pk === `window#${windowStart}`) used = Number(item.actions?.N ?? '0');
    if (!pk.startsWith('resource#')) continue;
    const at = Number(item.lastActionAt?.N ?? Number.NaN);
    if (!Number.isFinite(at)) continue;
    const until = at + settings.cooldownSeconds;
    const action = item.lastAction?.S;
    const reason = item.lastReason?.S;
    actions.push({
      resource: pk.slice('resource#'.length),
      at: new Date(at * 1000).toISOString(),
      eventId: item.lastEventId?.S ?? '',
      ...(action ? { action } : {}),
      ...(reason ? { reason } : {}),
      cooldownUntil: new Date(until * 1000).toISOString(),
      coolingDown: until > nowSeconds,
    });
  }
  actions.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  return {
    source: 'aws',
    cooldownSeconds: settings.cooldownSeconds,
    budget: {
      windowSeconds: settings.windowSeconds,
      windowStart: new Date(windowStart * 1000).toISOString(),
      maxActions: settings.maxActionsPerWindow,
      used,
      remaining: Math.max(0, settings.maxActionsPerWindow - used),
    },
    actions,
  };
}
