import { createSignal, For, Show } from 'solid-js';
import { anomalyKey } from '../../../../contracts/anomaly-key.ts';
import type { AnomalyRecord, UnavailableSource } from '../../../../contracts/console-api.ts';
import { firstLine, fullText, severityOf } from '../anomaly-view.ts';
import { clock } from '../api.ts';

/**
 * Rows shown before "show more": a burst must not make the page thousands of pixels tall. A narrow
 * screen stacks each row on three lines, so it shows half as many.
 */
const pageRows = () => (globalThis.matchMedia?.('(max-width: 700px)').matches ? 10 : 20);

/**
 * Anomalous lines, one compact row each (time, service, revision, score, the message's first line,
 * why); the full line with its stack opens below the row on demand and can be copied.
 */
export function AnomalyTable(props: {
  records: readonly AnomalyRecord[];
  unavailable: readonly UnavailableSource[];
  total: number;
}) {
  const [shown, setShown] = createSignal(pageRows());
  const [open, setOpen] = createSignal<string>();
  return (
    <>
      <Show when={props.unavailable.length > 0}>
        <p class="state warning" role="status">
          No data from: {props.unavailable.map((u) => `${u.service} (${u.reason})`).join('; ')}
        </p>
      </Show>
      <Show
        when={props.records.length > 0}
        fallback={
          <p class="state">
            {props.total > 0
              ? `None of the ${props.total} recent anomalous lines match the filters.`
              : 'No anomalous lines in the recent window.'}
          </p>
        }
      >
        <table class="anomalies">
          <caption class="visually-hidden">
            Anomalous lines, newest first ({props.records.length} of {props.total})
          </caption>
          <thead>
            <tr>
              <th scope="col">time</th>
              <th scope="col">service</th>
              <th scope="col">revision</th>
              <th scope="col">score</th>
              <th scope="col">message</th>
              <th scope="col">why</th>
              <th scope="col">
                <span class="visually-hidden">details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            <For each={props.records.slice(0, shown())}>
              {(record) => {
                const key = anomalyKey(record);
                const detailsId = `details-${hash(key)}`;
                const isOpen = () => open() === key;
                return (
                  <>
                    <tr class="anomaly" data-severity={severityOf(record)}>
                      <td class="time">
                        <time dateTime={record.timestamp}>{clock(record.timestamp)}</time>
                      </td>
                      <td class="service">{record.service}</td>
                      <td class="revision">{record.revision ?? '—'}</td>
                      <td class="score">{record.score.toFixed(2)}</td>
                      <td class="line">
                        <code>{firstLine(record.line)}</code>
                      </td>
                      <td class="reasons">{record.reasons?.join(', ') ?? ''}</td>
                      <td class="more">
                        <button
                          type="button"
                          class="link"
                          aria-expanded={isOpen()}
                          aria-controls={detailsId}
                          onClick={() => setOpen(isOpen() ? undefined : key)}
                        >
                          {isOpen() ? 'Hide' : 'Full line'}
                        </button>
                      </td>
                    </tr>
                    <Show when={isOpen()}>
                      <tr class="details" id={detailsId}>
                        <td colSpan={7}>
                          <FullLine record={record} />
                        </td>
                      </tr>
                    </Show>
                  </>
                );
              }}
            </For>
          </tbody>
        </table>
        <Show when={props.records.length > shown()}>
          <button type="button" class="more-rows" onClick={() => setShown((n) => n + pageRows())}>
            Show {Math.min(pageRows(), props.records.length - shown())} more ({props.records.length - shown()}{' '}
            hidden)
          </button>
        </Show>
      </Show>
    </>
  );
}

function FullLine(props: { record: AnomalyRecord }) {
  const [copied, setCopied] = createSignal('');
  const text = () => fullText(props.record.line);
  async function copy() {
    try {
      await navigator.clipboard.writeText(props.record.line);
      setCopied('Copied');
    } catch {
      setCopied('Copy failed: select the text instead');
    }
  }
  return (
    <div class="full-line">
      <div class="full-line-meta">
        <span>
          task <code>{props.record.task}</code>
          <Show when={props.record.template}>
            {(template) => (
              <>
                {' '}
                · template <code>{template()}</code>
              </>
            )}
          </Show>
        </span>
        <button type="button" onClick={copy}>
          Copy line
        </button>
        <span role="status">{copied()}</span>
      </div>
      <pre>{text()}</pre>
    </div>
  );
}

/** A short, stable id for aria-controls (keys contain characters ids should not). */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
