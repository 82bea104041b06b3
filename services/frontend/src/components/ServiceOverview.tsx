import { Index, Show } from 'solid-js';
import type { ServicesResponse } from '../../../../contracts/console-api.ts';
import { alertSummary } from '../alert-view.ts';
import { clock } from '../api.ts';

/**
 * One card per declared service: health, probe latency or ECS task counts, and for a scored service
 * its alert budget beside the alert rate of the last hour; a card selects the service.
 * Health is pushed every few seconds as new objects: `<Index>` keeps each card's element and updates
 * its text, so a keyboard user's focus is not lost to a refresh.
 */
export function ServiceOverview(props: {
  data: ServicesResponse;
  selected: string | undefined;
  onSelect: (name: string) => void;
}) {
  return (
    <Show
      when={props.data.services.length > 0}
      fallback={<p class="state">No services are declared for this console (SERVICES is empty).</p>}
    >
      <ul class="services">
        <Index each={props.data.services}>
          {(service) => (
            <li>
              <button
                type="button"
                class="service"
                classList={{ selected: props.selected === service().name }}
                aria-pressed={props.selected === service().name}
                data-health={service().health}
                onClick={() => props.onSelect(service().name)}
              >
                <span class={`dot ${service().health}`} aria-hidden="true" />
                <span class="name">{service().name}</span>
                <Show when={service().kind === 'worker'}>
                  <span class="kind">worker</span>
                </Show>
                <span class="health">
                  {service().health}
                  <Show when={service().latencyMs !== undefined}> · {service().latencyMs} ms</Show>
                </span>
                <Show when={service().tasks}>
                  {(tasks) => (
                    <span class="detail">
                      {tasks().running}/{tasks().desired} tasks
                      <Show when={tasks().pending > 0}> · {tasks().pending} pending</Show>
                      <Show when={service().rollout && service().rollout !== 'completed'}>
                        {' '}
                        · {service().rollout}
                      </Show>
                    </span>
                  )}
                </Show>
                <Show when={service().detail}>
                  <span class="detail">{service().detail}</span>
                </Show>
                <Show when={service().alerts}>
                  {(alerts) => (
                    <span class="detail alerts" classList={{ 'over-budget': alertSummary(alerts()).over }}>
                      {alertSummary(alerts()).text}
                    </span>
                  )}
                </Show>
                <span class="detail">checked {clock(service().checkedAt)}</span>
              </button>
            </li>
          )}
        </Index>
      </ul>
    </Show>
  );
}
