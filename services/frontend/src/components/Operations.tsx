import { For, Show } from 'solid-js';
import type {
  AlarmsResponse,
  CapacityResponse,
  RemediationResponse,
} from '../../../../contracts/console-ops.ts';
import { ago, clock } from '../api.ts';

/** Alarm states, firing first, with CloudWatch's reason. */
export function Alarms(props: { data: AlarmsResponse; now: number }) {
  return (
    <>
      <Show when={props.data.note}>
        <p class="hint">{props.data.note}</p>
      </Show>
      <Show when={props.data.alarms.length > 0} fallback={<p class="state">No alarms.</p>}>
        <ul class="alarms">
          <For each={props.data.alarms}>
            {(alarm) => (
              <li class="alarm" data-state={alarm.state}>
                <span class={`pill ${alarm.state.toLowerCase()}`}>{alarm.state.replace('_', ' ')}</span>
                <span class="name">{alarm.name}</span>
                <span class="muted">since {ago(alarm.since, props.now)}</span>
                <span class="reason">{alarm.reason}</span>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </>
  );
}

/** Remediation actions (what, why), their cooldowns, and the action budget left in this window. */
export function Remediation(props: { data: RemediationResponse; now: number }) {
  return (
    <>
      <Show when={props.data.note}>
        <p class="hint">{props.data.note}</p>
      </Show>
      <Show when={props.data.budget}>
        {(budget) => (
          <p class="budget">
            Budget: <strong>{budget().remaining}</strong> of {budget().maxActions} actions left until{' '}
            {clock(Date.parse(budget().windowStart) + budget().windowSeconds * 1000)}
            <Show when={props.data.cooldownSeconds !== null}>
              {' '}
              · cooldown {props.data.cooldownSeconds} s per resource
            </Show>
          </p>
        )}
      </Show>
      <Show
        when={props.data.actions.length > 0}
        fallback={<p class="state">No remediation actions recorded.</p>}
      >
        <table class="compact">
          <caption class="visually-hidden">Remediation actions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">when</th>
              <th scope="col">resource</th>
              <th scope="col">what and why</th>
              <th scope="col">cooldown</th>
            </tr>
          </thead>
          <tbody>
            <For each={props.data.actions}>
              {(action) => (
                <tr>
                  <td>{ago(action.at, props.now)}</td>
                  <td>
                    <code>{action.resource}</code>
                  </td>
                  <td>
                    {action.action ?? 'action recorded'}
                    <div class="reason">{action.reason ?? `event ${action.eventId}`}</div>
                  </td>
                  <td>{action.coolingDown ? `until ${clock(action.cooldownUntil)}` : 'over'}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </Show>
    </>
  );
}

/** Instances, tasks and ENIs on AWS; processes locally. */
export function Capacity(props: { data: CapacityResponse }) {
  return (
    <>
      <Show when={props.data.note}>
        <p class="hint">{props.data.note}</p>
      </Show>
      <Show when={props.data.tasks.length > 0}>
        <ul class="task-counts">
          <For each={props.data.tasks}>
            {(t) => (
              <li>
                <strong>{t.service}</strong> {t.running}/{t.desired} running
                <Show when={t.pending > 0}> · {t.pending} pending</Show>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <Show when={props.data.instances.length > 0}>
        <table class="compact">
          <caption class="visually-hidden">Container instances</caption>
          <thead>
            <tr>
              <th scope="col">instance</th>
              <th scope="col">tasks</th>
              <th scope="col">CPU free</th>
              <th scope="col">memory free</th>
              <th scope="col">ENIs</th>
            </tr>
          </thead>
          <tbody>
            <For each={props.data.instances}>
              {(i) => (
                <tr>
                  <td>
                    <code>{i.id}</code>
                    <span class="muted">
                      {' '}
                      {[i.instanceType, i.availabilityZone, i.status].filter(Boolean).join(' · ')}
                    </span>
                  </td>
                  <td>{i.runningTasks}</td>
                  <td>
                    {i.cpu.remaining}/{i.cpu.registered}
                  </td>
                  <td>
                    {i.memoryMiB.remaining}/{i.memoryMiB.registered} MiB
                  </td>
                  <td>{i.enis}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </Show>
      <Show when={props.data.processes.length > 0}>
        <table class="compact">
          <caption class="visually-hidden">Local processes</caption>
          <thead>
            <tr>
              <th scope="col">service</th>
              <th scope="col">process</th>
              <th scope="col">state</th>
              <th scope="col">restarts</th>
            </tr>
          </thead>
          <tbody>
            <For each={props.data.processes}>
              {(p) => (
                <tr>
                  <td>{p.service}</td>
                  <td>
                    {p.role}
                    <Show when={p.pid}> · pid {p.pid}</Show>
                    <Show when={p.port}> · :{p.port}</Show>
                    <Show when={p.revision}> · {p.revision}</Show>
                  </td>
                  <td>{p.state}</td>
                  <td>{p.restarts}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </Show>
      <Show
        when={
          props.data.instances.length === 0 &&
          props.data.processes.length === 0 &&
          props.data.tasks.length === 0
        }
      >
        <p class="state">No capacity data.</p>
      </Show>
    </>
  );
}
