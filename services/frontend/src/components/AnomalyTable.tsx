import { For, Show } from 'solid-js';
import type { AnomaliesListResponse } from '../../../../contracts/console-api.ts';
import { clock } from '../api.ts';

/** The newest anomalous lines across services, with their scores and why they scored. */
export function AnomalyTable(props: { data: AnomaliesListResponse }) {
  return (
    <>
      <Show when={props.data.unavailable.length > 0}>
        <p class="state warning" role="status">
          No data from: {props.data.unavailable.map((u) => `${u.service} (${u.reason})`).join('; ')}
        </p>
      </Show>
      <Show
        when={props.data.records.length > 0}
        fallback={<p class="state">No anomalous lines in the recent window.</p>}
      >
        <div class="table-wrap">
          <table class="anomalies">
            <thead>
              <tr>
                <th scope="col">time</th>
                <th scope="col">service</th>
                <th scope="col">score</th>
                <th scope="col">line</th>
                <th scope="col">why</th>
              </tr>
            </thead>
            <tbody>
              <For each={props.data.records}>
                {(record) => (
                  <tr>
                    <td class="time">
                      <time dateTime={record.timestamp}>{clock(record.timestamp)}</time>
                    </td>
                    <td>{record.service}</td>
                    <td class="score">{record.score.toFixed(2)}</td>
                    <td class="line" title={record.line}>
                      <code>{record.line}</code>
                    </td>
                    <td class="reasons">{record.reasons?.join(', ') ?? ''}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </Show>
    </>
  );
}
