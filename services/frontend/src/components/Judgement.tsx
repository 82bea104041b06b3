import { For, Show } from 'solid-js';
import type { Deployment } from '../../../../contracts/console-ops.ts';
import type { Judgement, Rate } from '../../../../contracts/judgement.ts';
import { ago } from '../api.ts';

const percent = (x: number) => `${(x * 100).toFixed(1)} %`;

/** A rate with its bound: the new revision's lowest plausible rate, the old one's highest (what the gate compares). */
function RateCell(props: { rate: Rate | null; role: 'new' | 'old' }) {
  return (
    <Show when={props.rate} fallback={<span class="muted">—</span>}>
      {(rate) => (
        <>
          {percent(rate().rate)}{' '}
          <span class="bound">
            ({props.role === 'new' ? '≥' : '≤'} {percent(props.role === 'new' ? rate().lower : rate().upper)})
          </span>
          <span class="muted"> of {rate().total}</span>
        </>
      )}
    </Show>
  );
}

/**
 * What the deployment gate saw at one stage: the new and the old revision side by side, the minimum volume
 * and what the probes supplied, the verdict and the rule that gave it, then the reason.
 */
export function JudgementView(props: { judgement: Judgement; now: number }) {
  const j = () => props.judgement;
  const verdictClass = () =>
    j().verdict === 'FAILED' ? 'failed' : j().verdict === 'SUCCEEDED' ? 'completed' : 'in-progress';
  const newRequests = () => j().revisions.find((r) => r.role === 'new')?.errors?.total ?? 0;
  return (
    <section class="judgement" data-stage={j().stage} data-verdict={j().verdict}>
      <h4>
        <span class={`pill ${verdictClass()}`}>{j().verdict}</span> {j().stage}
        <span class="muted">
          {' '}
          · {j().trafficPercent}% of traffic · {ago(j().at, props.now)}
        </span>
      </h4>
      <p class="rule">
        <strong>Rule</strong> {j().rule}
      </p>
      <table class="compact judged">
        <caption class="visually-hidden">The revisions the gate compared</caption>
        <thead>
          <tr>
            <th scope="col">revision</th>
            <th scope="col">lines scored</th>
            <th scope="col">anomaly rate</th>
            <th scope="col">error rate</th>
          </tr>
        </thead>
        <tbody>
          <For each={j().revisions}>
            {(r) => (
              <tr data-role={r.role}>
                <td>
                  <code>{r.revision}</code> <span class="muted">{r.role}</span>
                </td>
                <td>
                  {r.anomalies.total}
                  <Show when={r.received > r.anomalies.total}>
                    <span class="muted"> of {r.received} received</span>
                  </Show>
                </td>
                <td class="anomaly-rate">
                  <RateCell rate={r.anomalies} role={r.role} />
                </td>
                <td class="error-rate">
                  <RateCell rate={r.errors} role={r.role} />
                </td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
      <p class="volume">
        Minimum volume {j().minimumVolume.lines} lines, {j().minimumVolume.requests} requests
        <Show when={j().probes.paths.length > 0}>
          {' '}
          · probes supplied {j().probes.answered} of the new revision's {newRequests()} requests (
          {j().probes.sent} sent to {j().probes.paths.join(', ')})
        </Show>
      </p>
      <p class="reason">{j().reason}</p>
    </section>
  );
}

/** A revision's environment as released, against the declared one. */
export function EnvironmentDiff(props: { environment: NonNullable<Deployment['environment']> }) {
  const set = () => Object.entries(props.environment.set);
  return (
    <Show when={set().length > 0 || props.environment.unset.length > 0}>
      <p class="env-diff">
        Environment:{' '}
        <For each={set()}>
          {([name, value]) => (
            <code class="set">
              +{name}={value}{' '}
            </code>
          )}
        </For>
        <For each={props.environment.unset}>{(name) => <code class="unset">−{name} </code>}</For>
      </p>
    </Show>
  );
}
