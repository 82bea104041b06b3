import { For, Show } from 'solid-js';
import type { ServicesResponse } from '../../../../contracts/console-api.ts';

/** One card per declared service: health, probe latency; clicking selects it for the timeline. */
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
        <For each={props.data.services}>
          {(service) => (
            <li>
              <button
                type="button"
                class="service"
                classList={{ selected: props.selected === service.name }}
                aria-pressed={props.selected === service.name}
                onClick={() => props.onSelect(service.name)}
              >
                <span class={`dot ${service.health}`} aria-hidden="true" />
                <span class="name">{service.name}</span>
                <span class="health">
                  {service.health}
                  <Show when={service.latencyMs !== undefined}> · {service.latencyMs} ms</Show>
                </span>
                <Show when={service.detail}>
                  <span class="detail">{service.detail}</span>
                </Show>
              </button>
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}
