import { createSignal, For, Show } from 'solid-js';
import type { PredictionResponse } from '../../../../contracts/console-api.ts';
import { api } from '../api.ts';
import { ErrorNotice } from './Async.tsx';

const SAMPLE_LINES = [
  'GET /api/orders/1842 200 12ms',
  'ERROR OrderService: connection reset by peer while reading from orders-db',
  'user 1042 signed in from 10.0.3.17',
].join('\n');

/**
 * A worked example of the seed's four numbers that the default model scores normal: 2025-12-01 22:00 UTC,
 * a 60-character message, log stream 12 of 64, a 17-character log group (`/ecs/acme-backend`).
 */
export const SEED_EXAMPLE = '{"data":[1764626400,60,12,17]}';

/** The UI caps a batch well under the API's limit; larger batches belong to the prediction API. */
const MAX_LINES = 200;

type Mode = 'lines' | 'body';

/** Paste log lines (or a raw request body), score them through the backend, see each score. */
export function Playground() {
  const [mode, setMode] = createSignal<Mode>('lines');
  const [lines, setLines] = createSignal(SAMPLE_LINES);
  const [body, setBody] = createSignal(SEED_EXAMPLE);
  const [busy, setBusy] = createSignal(false);
  const [result, setResult] = createSignal<{ labels: string[]; response: PredictionResponse }>();
  const [error, setError] = createSignal<unknown>();
  const batch = () =>
    lines()
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
  const empty = () => (mode() === 'lines' ? batch().length === 0 : body().trim().length === 0);
  const tooMany = () => mode() === 'lines' && batch().length > MAX_LINES;
  // Results describe the input they came from: any edit or mode change clears them.
  const clear = () => {
    setResult(undefined);
    setError(undefined);
  };

  async function score(event: SubmitEvent) {
    event.preventDefault();
    if (empty() || tooMany()) return;
    clear();
    setBusy(true);
    try {
      if (mode() === 'lines') {
        const sent = batch();
        setResult({ labels: sent, response: await api.predictLines(sent) });
      } else {
        const response = await api.predictBody(body());
        setResult({ labels: response.predictions.map((_, i) => `vector ${i + 1}`), response });
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="playground" onSubmit={score}>
      <fieldset class="modes">
        <legend>Input</legend>
        <label>
          <input
            type="radio"
            name="mode"
            value="lines"
            checked={mode() === 'lines'}
            onChange={() => {
              setMode('lines');
              clear();
            }}
          />{' '}
          log lines
        </label>
        <label>
          <input
            type="radio"
            name="mode"
            value="body"
            checked={mode() === 'body'}
            onChange={() => {
              setMode('body');
              clear();
            }}
          />{' '}
          request body (JSON)
        </label>
      </fieldset>
      <Show
        when={mode() === 'body'}
        fallback={
          <>
            <label for="lines">Log lines, one per line</label>
            <textarea
              id="lines"
              rows="5"
              spellcheck={false}
              value={lines()}
              onInput={(e) => {
                setLines(e.currentTarget.value);
                clear();
              }}
            />
          </>
        }
      >
        <label for="body">Request body, as the prediction API takes it</label>
        <textarea
          id="body"
          rows="4"
          spellcheck={false}
          aria-describedby="seed-help"
          value={body()}
          onInput={(e) => {
            setBody(e.currentTarget.value);
            clear();
          }}
        />
        <div id="seed-help" class="hint seed-help">
          <p>
            <code>{'{"data":[t, length, stream, group]}'}</code> is the seed's format: four numbers per log
            event, or a list of such vectors. In order:
          </p>
          <ol>
            <li>the UNIX timestamp in seconds (1764626400 is 2025-12-01 22:00 UTC);</li>
            <li>the message length in characters (60);</li>
            <li>the log-stream index, 0–63, from a hash of the stream name (12; −1 without a stream);</li>
            <li>
              the log-group name's length (17, for <code>/ecs/acme-backend</code>).
            </li>
          </ol>
          <p>
            The example scores normal. The model reads little from these numbers (mostly the length): very
            short or very long messages score high. <code>{'{"logs":[{"timestamp","message"}]}'}</code> also
            works.
          </p>
        </div>
      </Show>
      <div class="actions">
        <button type="submit" disabled={busy() || empty() || tooMany()} aria-busy={busy()}>
          {busy() ? 'Scoring…' : 'Score lines'}
        </button>
        <span class="hint" role="status">
          {empty()
            ? 'Nothing to score yet'
            : tooMany()
              ? `At most ${MAX_LINES} lines at a time`
              : mode() === 'lines'
                ? `${batch().length} line(s)`
                : ''}
        </span>
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
                    <td class="verdict">{prediction.anomaly ? 'anomalous' : 'normal'}</td>
                    <td class="line">
                      <code>{r().labels[i()]}</code>
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
