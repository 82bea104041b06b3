import { createSignal, For, Show } from 'solid-js';
import type { PredictionResponse } from '../../../../contracts/console-api.ts';
import { ApiFailure, api } from '../api.ts';
import { ErrorNotice } from './Async.tsx';

const SAMPLE = [
  'GET /api/orders/1842 200 12ms',
  'ERROR OrderService: connection reset by peer while reading from orders-db',
  'user 1042 signed in from 10.0.3.17',
].join('\n');

/** The UI caps a batch well under the API's limit; larger batches belong to the prediction API. */
const MAX_LINES = 200;

/** Paste log lines, score them through the backend's prediction proxy, see each line's score. */
export function Playground() {
  const [text, setText] = createSignal(SAMPLE);
  const [busy, setBusy] = createSignal(false);
  const [result, setResult] = createSignal<{ lines: string[]; response: PredictionResponse }>();
  const [error, setError] = createSignal<unknown>();
  const lines = () =>
    text()
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0);

  async function score(event: SubmitEvent) {
    event.preventDefault();
    const batch = lines();
    if (batch.length === 0) {
      setError(new ApiFailure(400, 'invalid_request', 'paste at least one log line'));
      return;
    }
    if (batch.length > MAX_LINES) {
      setError(new ApiFailure(413, 'payload_too_large', `at most ${MAX_LINES} lines at a time`));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      setResult({ lines: batch, response: await api.predict(batch) });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="playground" onSubmit={score}>
      <label for="lines">Log lines, one per line</label>
      <textarea
        id="lines"
        rows="5"
        spellcheck={false}
        value={text()}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <div class="actions">
        <button type="submit" disabled={busy()} aria-busy={busy()}>
          {busy() ? 'Scoring…' : 'Score lines'}
        </button>
        <span class="hint">{lines().length} line(s)</span>
      </div>
      <Show when={error()}>{(failure) => <ErrorNotice error={failure()} label="scores" />}</Show>
      <Show when={result()}>
        {(r) => (
          <table class="predictions">
            <caption>
              model {r().response.model.name} {r().response.model.version}, threshold{' '}
              {r().response.model.threshold}
            </caption>
            <tbody>
              <For each={r().response.predictions}>
                {(prediction, i) => (
                  <tr classList={{ anomalous: prediction.anomaly }}>
                    <td class="score">{prediction.score.toFixed(3)}</td>
                    <td>{prediction.anomaly ? 'anomalous' : 'normal'}</td>
                    <td class="line">
                      <code>{r().lines[i()]}</code>
                    </td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        )}
      </Show>
    </form>
  );
}
