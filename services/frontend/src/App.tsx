import { createEffect, createMemo, createSignal, on, onCleanup, Show } from 'solid-js';
import { anomalyKey } from '../../../contracts/anomaly-key.ts';
import type { AnomalyRecord, UnavailableSource } from '../../../contracts/console-api.ts';
import type { LiveEvent } from '../../../contracts/console-ops.ts';
import {
  type AnomalyFilters as Filters,
  filterAnomalies,
  mergeAnomalies,
  NO_FILTERS,
  optionsOf,
  severityOf,
} from './anomaly-view.ts';
import { api } from './api.ts';
import { AnomalyFilters } from './components/AnomalyFilters.tsx';
import { AnomalyTable } from './components/AnomalyTable.tsx';
import { Async, ErrorNotice } from './components/Async.tsx';
import { Deployments } from './components/Deployments.tsx';
import { Identity } from './components/Identity.tsx';
import { Jobs } from './components/Jobs.tsx';
import { LiveStatus } from './components/LiveStatus.tsx';
import { Alarms, Capacity, Remediation } from './components/Operations.tsx';
import { Playground } from './components/Playground.tsx';
import { ServiceOverview } from './components/ServiceOverview.tsx';
import { Timeline } from './components/Timeline.tsx';
import { connectLive } from './live.ts';
import { createLoadable } from './loadable.ts';

/** The timeline window: 30 one-minute buckets. */
const BUCKET_SECONDS = 60;
const BUCKETS = 30;
/** The view without a push (remediation) and the chart are re-read this often. */
const SLOW_REFRESH_MS = 30_000;
/** Job runs are read this often (they are not pushed). */
const JOBS_REFRESH_MS = 3000;
/** A pushed anomaly of the selected service refreshes its chart at most this often. */
const CHART_THROTTLE_MS = 1000;

/** The operations console: live services, anomalies, deployments, alarms, remediation, capacity. */
export function App() {
  const services = createLoadable(api.services);
  const deployments = createLoadable(api.deployments);
  const alarms = createLoadable(api.alarms);
  const remediation = createLoadable(api.remediation);
  const capacity = createLoadable(api.capacity);
  const jobs = createLoadable(api.jobs);
  const [records, setRecords] = createSignal<AnomalyRecord[]>([]);
  const [unavailable, setUnavailable] = createSignal<readonly UnavailableSource[]>([]);
  const [anomaliesError, setAnomaliesError] = createSignal<unknown>();
  const [anomaliesLoaded, setAnomaliesLoaded] = createSignal(false);
  const [announcement, setAnnouncement] = createSignal('');
  const [now, setNow] = createSignal(Date.now());
  const [chosen, setChosen] = createSignal<string>();
  const [filters, setFilters] = createSignal<Filters>(NO_FILTERS);

  const series = createLoadable(() => {
    const service = chosen();
    if (!service) return Promise.reject(new Error('no service selected'));
    return api.series(service, BUCKET_SECONDS, BUCKETS);
  });
  // The chart follows the selection: a new service is fetched at once, and until it arrives the
  // previous service's series is not shown under the new heading.
  const shownSeries = () => (series.value()?.service === chosen() ? series.value() : undefined);
  createEffect(on(chosen, (service) => service && void series.reload()));

  let chartRefreshPending = false;
  const refreshChartSoon = () => {
    if (chartRefreshPending) return;
    chartRefreshPending = true;
    setTimeout(() => {
      chartRefreshPending = false;
      void series.reload();
    }, CHART_THROTTLE_MS);
  };

  const addRecords = (incoming: readonly AnomalyRecord[]) => {
    const before = new Set(records().map(anomalyKey));
    const next = mergeAnomalies(records(), incoming);
    const added = next.filter((r) => !before.has(anomalyKey(r)));
    // Screen readers hear about new lines, not about the first load.
    if (added.length > 0 && anomaliesLoaded()) {
      setAnnouncement(`${added.length} new anomalous line${added.length === 1 ? '' : 's'}`);
    }
    setRecords(next);
    setAnomaliesLoaded(true);
    setAnomaliesError(undefined);
    if (added.some((r) => r.service === chosen())) refreshChartSoon();
  };

  const loadAnomalies = async () => {
    try {
      const list = await api.anomalies(100);
      addRecords(list.records);
      setUnavailable(list.unavailable);
    } catch (failure) {
      setAnomaliesError(failure);
    }
  };

  const apply = (event: LiveEvent) => {
    if (event.type === 'services') services.set(event.data);
    else if (event.type === 'deployments') deployments.set(event.data);
    else if (event.type === 'alarms') alarms.set(event.data);
    else if (event.type === 'capacity') capacity.set(event.data);
    else {
      addRecords(event.data.records);
      setUnavailable(event.data.unavailable);
    }
  };

  const pollAll = async () => {
    await Promise.all([
      services.reload(),
      loadAnomalies(),
      deployments.reload(),
      alarms.reload(),
      capacity.reload(),
      jobs.reload(),
      chosen() ? series.reload() : undefined,
    ]);
  };
  void pollAll();
  void remediation.reload();
  const live = connectLive({ onEvent: apply, poll: pollAll });

  const slow = setInterval(() => {
    if (live.state() === 'paused') return;
    void remediation.reload();
    if (chosen()) void series.reload();
  }, SLOW_REFRESH_MS);
  const jobsTimer = setInterval(() => {
    if (live.state() !== 'paused') void jobs.reload();
  }, JOBS_REFRESH_MS);
  const clockTimer = setInterval(() => setNow(Date.now()), 10_000);
  onCleanup(() => {
    clearInterval(slow);
    clearInterval(jobsTimer);
    clearInterval(clockTimer);
    live.pause();
  });

  // Default to the first service once the list is known; the operator's choice wins afterwards.
  createEffect(() => {
    const first = services.value()?.services[0]?.name;
    if (chosen() === undefined && first) setChosen(first);
  });
  const select = (name: string) => {
    setChosen(name);
    setFilters({ ...filters(), service: name });
  };

  const filtered = createMemo(() => filterAnomalies(records(), filters(), now()));
  const serviceNames = () =>
    services.value()?.services.map((s) => s.name) ?? optionsOf(records(), (r) => r.service);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <h1>Platform console</h1>
        <Show when={services.value()}>
          {(data) => <span class="badge">anomaly source: {data().anomalySource}</span>}
        </Show>
        <LiveStatus live={live} />
        <Identity />
      </header>
      <nav aria-label="Sections">
        <a href="#services-title">Services</a>
        <a href="#jobs-title">Jobs</a>
        <a href="#anomalies-title">Anomalies</a>
        <a href="#deployments-title">Deployments</a>
        <a href="#alarms-title">Alarms</a>
        <a href="#remediation-title">Remediation</a>
        <a href="#capacity-title">Capacity</a>
        <a href="#playground-title">Playground</a>
      </nav>
      <main id="main">
        <section aria-labelledby="services-title">
          <h2 id="services-title">Services</h2>
          <div class="slot slot-services">
            <Async source={services} label="services">
              {(data) => <ServiceOverview data={data()} selected={chosen()} onSelect={select} />}
            </Async>
          </div>
        </section>
        <section aria-labelledby="jobs-title">
          <h2 id="jobs-title">Scheduled jobs</h2>
          <Async source={jobs} label="job runs">
            {(data) => <Jobs data={data()} />}
          </Async>
        </section>
        <section aria-labelledby="timeline-title">
          <h2 id="timeline-title">
            Anomaly score{' '}
            <Show when={chosen()}>
              <span class="muted">
                · {chosen()} · last {BUCKETS} minutes
              </span>
            </Show>
          </h2>
          <div class="slot slot-timeline">
            <Show when={chosen()} fallback={<p class="state">Select a service to see its anomaly scores.</p>}>
              <Show
                when={shownSeries()}
                fallback={
                  <Show
                    when={series.error()}
                    fallback={
                      <p class="state loading" aria-busy="true">
                        Loading the anomaly timeline of {chosen()}…
                      </p>
                    }
                  >
                    {(error) => (
                      <ErrorNotice
                        error={error()}
                        label="the anomaly timeline"
                        retry={() => void series.reload()}
                      />
                    )}
                  </Show>
                }
              >
                {(data) => <Timeline series={data()} />}
              </Show>
            </Show>
          </div>
        </section>
        <section aria-labelledby="anomalies-title">
          <h2 id="anomalies-title">
            Anomalous lines <span class="muted">· {filtered().length} shown</span>
          </h2>
          <p class="visually-hidden" role="status" aria-live="polite">
            {announcement()}
          </p>
          <AnomalyFilters
            filters={filters()}
            services={serviceNames()}
            revisions={optionsOf(records(), (r) => r.revision ?? '')}
            severities={optionsOf(records(), severityOf)}
            onChange={setFilters}
          />
          <Show when={anomaliesError()}>
            {(error) => (
              <ErrorNotice error={error()} label="anomalous lines" retry={() => void loadAnomalies()} />
            )}
          </Show>
          <Show
            when={anomaliesLoaded()}
            fallback={
              <Show when={!anomaliesError()}>
                <p class="state loading" aria-busy="true">
                  Loading anomalous lines…
                </p>
              </Show>
            }
          >
            <AnomalyTable records={filtered()} unavailable={unavailable()} total={records().length} />
          </Show>
        </section>
        <section aria-labelledby="deployments-title">
          <h2 id="deployments-title">Deployments</h2>
          <Async source={deployments} label="deployments">
            {(data) => <Deployments data={data()} selected={chosen()} now={now()} />}
          </Async>
        </section>
        <div class="ops-grid">
          <section aria-labelledby="alarms-title">
            <h2 id="alarms-title">Alarms</h2>
            <Async source={alarms} label="alarms">
              {(data) => <Alarms data={data()} now={now()} />}
            </Async>
          </section>
          <section aria-labelledby="remediation-title">
            <h2 id="remediation-title">Remediation</h2>
            <Async source={remediation} label="remediation actions">
              {(data) => <Remediation data={data()} now={now()} />}
            </Async>
          </section>
        </div>
        <section aria-labelledby="capacity-title">
          <h2 id="capacity-title">Capacity</h2>
          <Async source={capacity} label="capacity">
            {(data) => <Capacity data={data()} />}
          </Async>
        </section>
        <section aria-labelledby="playground-title">
          <h2 id="playground-title">Prediction playground</h2>
          <Playground />
        </section>
      </main>
    </>
  );
}
