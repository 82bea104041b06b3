import { For, Show } from 'solid-js';
import type { JobsResponse } from '../../../../contracts/job-runs.ts';
import { clock } from '../api.ts';

/** `2.4 s`, `3 min 5 s`: how long a run took. */
export function runDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0).replace(/\.0$/, '')} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/**
 * Each scheduled job's latest runs, newest first: status (a failed or timed-out run says so), exit code,
 * duration, its lines as its sidecar scored them, and the anomalous lines themselves.
 */
export function Jobs(props: { data: JobsResponse }) {
  return (
    <>
      <Show when={props.data.note}>
        <p class="hint">{props.data.note}</p>
      </Show>
      <Show when={props.data.jobs.length > 0} fallback={<p class="state">No scheduled jobs are declared.</p>}>
        <table class="compact job-runs">
          <caption class="visually-hidden">Scheduled job runs, newest first per job</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Run</th>
              <th scope="col">Status</th>
              <th scope="col">Exit</th>
              <th scope="col">Duration</th>
              <th scope="col">Lines</th>
              <th scope="col">Anomalous lines</th>
            </tr>
          </thead>
          <tbody>
            <For each={props.data.jobs}>
              {(job) => (
                <Show
                  when={job.runs.length > 0}
                  fallback={
                    <tr data-job={job.job}>
                      <th scope="row">{job.job}</th>
                      <td colSpan={6} class="muted">
                        no run yet
                      </td>
                    </tr>
                  }
                >
                  <For each={job.runs}>
                    {(run) => (
                      <tr data-job={run.job} data-status={run.status}>
                        <th scope="row">{run.job}</th>
                        <td>
                          #{run.run} · {clock(run.startedAt)}
                          <Show when={run.trigger === 'now'}> · now</Show>
                        </td>
                        <td>
                          <span class={`pill ${run.status}`}>{run.status}</span>
                          <Show when={run.reason}>
                            <span class="muted"> {run.reason}</span>
                          </Show>
                        </td>
                        <td class="exit">
                          {run.exitCode === null ? 'no exit code' : `exit ${run.exitCode}`}
                        </td>
                        <td class="duration">
                          {run.durationMs === undefined ? '…' : runDuration(run.durationMs)}
                        </td>
                        <td class="lines">
                          {run.lines
                            ? `${run.lines.scored} scored · ${run.lines.anomalous} anomalous`
                            : 'not counted'}
                        </td>
                        <td>
                          <Show when={run.anomalies.length > 0} fallback={<span class="muted">none</span>}>
                            <ul class="anomalies">
                              <For each={run.anomalies}>{(line) => <li>{line}</li>}</For>
                            </ul>
                          </Show>
                        </td>
                      </tr>
                    )}
                  </For>
                </Show>
              )}
            </For>
          </tbody>
        </table>
      </Show>
    </>
  );
}
