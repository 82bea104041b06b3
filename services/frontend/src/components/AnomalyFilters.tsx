import { For } from 'solid-js';
import { ALL, type AnomalyFilters as Filters } from '../anomaly-view.ts';

const RANGES = [
  [5, 'last 5 minutes'],
  [15, 'last 15 minutes'],
  [60, 'last hour'],
  [0, 'any time'],
] as const;

/** Filters of the anomaly table: service, revision, severity, time range. */
export function AnomalyFilters(props: {
  filters: Filters;
  services: readonly string[];
  revisions: readonly string[];
  severities: readonly string[];
  onChange: (filters: Filters) => void;
}) {
  const select = (id: keyof Filters, label: string, options: readonly string[], allLabel: string) => (
    <label class="filter">
      <span>{label}</span>
      <select onChange={(e) => props.onChange({ ...props.filters, [id]: e.currentTarget.value })}>
        <option value={ALL} selected={props.filters[id] === ALL}>
          {allLabel}
        </option>
        <For each={options}>
          {(value) => (
            <option value={value} selected={props.filters[id] === value}>
              {value}
            </option>
          )}
        </For>
      </select>
    </label>
  );
  return (
    <fieldset class="filters">
      <legend class="visually-hidden">Filter anomalous lines</legend>
      {select('service', 'Service', props.services, 'all services')}
      {select('revision', 'Revision', props.revisions, 'all revisions')}
      {select('severity', 'Severity', props.severities, 'any severity')}
      <label class="filter">
        <span>Time</span>
        <select
          onChange={(e) => props.onChange({ ...props.filters, withinMinutes: Number(e.currentTarget.value) })}
        >
          <For each={RANGES}>
            {([minutes, label]) => (
              <option value={minutes} selected={props.filters.withinMinutes === minutes}>
                {label}
              </option>
            )}
          </For>
        </select>
      </label>
    </fieldset>
  );
}
