import { type JSX, Match, type Resource, Show, Switch } from 'solid-js';
import { ApiFailure } from '../api.ts';

/**
 * Shows a resource's loading, error and ready states, so no panel is ever blank: a first load says
 * what it is loading, a failure says why and offers a retry, and a refresh keeps the last data.
 */
export function Async<T>(props: {
  resource: Resource<T>;
  label: string;
  retry: () => void;
  children: (value: T) => JSX.Element;
}) {
  const ready = () => props.resource.state === 'ready' || props.resource.state === 'refreshing';
  return (
    <Switch
      fallback={
        <p class="state loading" aria-busy="true">
          Loading {props.label}…
        </p>
      }
    >
      <Match when={props.resource.state === 'errored'}>
        <ErrorNotice error={props.resource.error} label={props.label} retry={props.retry} />
      </Match>
      <Match when={ready()}>
        <Show when={ready() ? props.resource() : undefined}>{(value) => props.children(value())}</Show>
      </Match>
    </Switch>
  );
}

export function ErrorNotice(props: { error: unknown; label: string; retry?: () => void }) {
  const message = () =>
    props.error instanceof ApiFailure ? props.error.message : 'something unexpected went wrong';
  return (
    <div class="state error" role="alert">
      <span>
        Could not load {props.label}: {message()}
      </span>
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
