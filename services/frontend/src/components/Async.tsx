import { type Accessor, For, type JSX, Show } from 'solid-js';
import { ApiFailure } from '../api.ts';
import type { Loadable } from '../loadable.ts';

/**
 * Shows a loadable's loading, error and ready states, so no panel is ever blank: a first load says
 * what it is loading, a failure says why and offers a retry, and a failed refresh keeps the last data
 * with a note. `children` receives an accessor, so new data always reaches the view.
 */
export function Async<T>(props: {
  source: Loadable<T>;
  label: string;
  children: (value: Accessor<T>) => JSX.Element;
}) {
  return (
    <Show
      when={props.source.value()}
      fallback={
        <Show
          when={props.source.error()}
          fallback={
            <p class="state loading" aria-busy="true">
              Loading {props.label}…
            </p>
          }
        >
          {(error) => (
            <ErrorNotice error={error()} label={props.label} retry={() => void props.source.reload()} />
          )}
        </Show>
      }
    >
      {(value) => (
        <>
          <Show when={props.source.error()}>
            {(error) => (
              <ErrorNotice
                error={error()}
                label={`fresh ${props.label} (showing the last answer)`}
                retry={() => void props.source.reload()}
              />
            )}
          </Show>
          {props.children(value)}
        </>
      )}
    </Show>
  );
}

/** A failure, with the platform's message and each issue's path and message when there are any. */
export function ErrorNotice(props: { error: unknown; label: string; retry?: () => void }) {
  const failure = () => (props.error instanceof ApiFailure ? props.error : undefined);
  const message = () => failure()?.message ?? 'something unexpected went wrong';
  return (
    <div class="state error" role="alert">
      <div>
        <span>
          Could not load {props.label}: {message()}
        </span>
        <Show when={(failure()?.issues.length ?? 0) > 0}>
          <ul class="issues">
            <For each={failure()?.issues}>
              {(issue) => (
                <li>
                  <code>{issue.path || '(body)'}</code>: {issue.message}
                </li>
              )}
            </For>
          </ul>
        </Show>
      </div>
      <Show when={props.retry}>
        {(retry) => (
          <button type="button" onClick={() => retry()()}>
            Retry
          </button>
        )}
      </Show>
    </div>
  );
}
