import { For, Show } from 'solid-js';
import type { DeploymentsResponse } from '../../../../contracts/console-ops.ts';
import { ago } from '../api.ts';
import { EnvironmentDiff, JudgementView } from './Judgement.tsx';

/**
 * Each service's revisions: strategy, traffic share, progress of the primary, environment changes, what the
 * deployment gate saw at each stage, rollbacks and why.
 */
export function Deployments(props: { data: DeploymentsResponse; selected?: string; now: number }) {
  // The selected service first: the view follows the selection without hiding the others.
  const services = () =>
    [...props.data.services].sort(
      (a, b) => Number(b.service === props.selected) - Number(a.service === props.selected),
    );
  return (
    <Show
      when={props.data.services.length > 0}
      fallback={<p class="state">No deployments to show{props.data.note ? ` (${props.data.note})` : ''}.</p>}
    >
      <ul class="cards">
        <For each={services()}>
          {(service) => (
            <li class="card deployment" data-service={service.service}>
              <h3>
                {service.service} <span class="muted">· {service.strategy}</span>
              </h3>
              <label class="progress-label" for={`progress-${service.service}`}>
                Progress <strong>{service.progressPercent}%</strong>
              </label>
              <progress id={`progress-${service.service}`} max="100" value={service.progressPercent}>
                {service.progressPercent}%
              </progress>
              <table class="compact">
                <caption class="visually-hidden">Revisions of {service.service}</caption>
                <thead>
                  <tr>
                    <th scope="col">revision</th>
                    <th scope="col">state</th>
                    <th scope="col">tasks</th>
                    <th scope="col">traffic</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={service.deployments}>
                    {(d) => (
                      <tr data-status={d.status}>
                        <td>
                          <code>{d.revision}</code>
                          <span class="muted"> {d.status}</span>
                          <Show when={d.environment}>{(env) => <EnvironmentDiff environment={env()} />}</Show>
                        </td>
                        <td>
                          <span class={`pill ${d.rolloutState}`}>{d.rolloutState}</span>
                          <span class="muted"> {ago(d.updatedAt, props.now)}</span>
                          <Show when={d.reason}>
                            <div class="reason">{d.reason}</div>
                          </Show>
                        </td>
                        <td>
                          {d.running}/{d.desired}
                          <Show when={d.pending > 0}> (+{d.pending})</Show>
                        </td>
                        <td>{d.trafficPercent}%</td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
              <For each={service.deployments.filter((d) => d.judgements.length > 0)}>
                {(d) => (
                  <div class="judgements" data-revision={d.revision}>
                    <For each={d.judgements}>{(j) => <JudgementView judgement={j} now={props.now} />}</For>
                  </div>
                )}
              </For>
              <For each={service.rollbacks}>
                {(r) => (
                  <p class="rollback" role="note">
                    Rolled back <code>{r.fromRevision}</code> → <code>{r.toRevision}</code>{' '}
                    {ago(r.at, props.now)}: {r.reason}
                  </p>
                )}
              </For>
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}
