import { createEffect, createResource, createSignal, onCleanup, Show } from 'solid-js';
import { api } from './api.ts';
import { AnomalyTable } from './components/AnomalyTable.tsx';
import { Async } from './components/Async.tsx';
import { Playground } from './components/Playground.tsx';
import { ServiceOverview } from './components/ServiceOverview.tsx';
import { Timeline } from './components/Timeline.tsx';

/** The timeline window: 30 one-minute buckets. */
const BUCKET_SECONDS = 60;
const BUCKETS = 30;
const REFRESH_MS = 15_000;

/** The operations console: service overview, anomaly timeline, anomalous lines, prediction playground. */
export function App() {
  const [tick, setTick] = createSignal(0);
  const timer = setInterval(() => setTick((t) => t + 1), REFRESH_MS);
  onCleanup(() => clearInterval(timer));

  const [services, { refetch: refetchServices }] = createResource(tick, () => api.services());
  const [chosen, setChosen] = createSignal<string>();
  // Default to the first service once the list is known; the operator's choice wins afterwards.
  createEffect(() => {
    if (chosen() === undefined && services.state === 'ready') setChosen(services()?.services[0]?.name);
  });
  const [series, { refetch: refetchSeries }] = createResource(
    () => {
      const service = chosen();
      return service ? { service, tick: tick() } : false;
    },
    ({ service }) => api.series(service, BUCKET_SECONDS, BUCKETS),
  );
  const [anomalies, { refetch: refetchAnomalies }] = createResource(tick, () => api.anomalies(50));

  return (
    <>
      <header>
        <h1>Platform console</h1>
        <Show when={services.state === 'ready' || services.state === 'refreshing'}>
          <span class="badge">anomaly source: {services.latest?.anomalySource}</span>
        </Show>
      </header>
      <main>
        <section aria-labelledby="services-title">
          <h2 id="services-title">Services</h2>
          <div class="slot slot-services">
            <Async resource={services} label="services" retry={refetchServices}>
              {(data) => <ServiceOverview data={data} selected={chosen()} onSelect={setChosen} />}
            </Async>
          </div>
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
              <Async resource={series} label="the anomaly timeline" retry={refetchSeries}>
                {(data) => <Timeline series={data} />}
              </Async>
            </Show>
          </div>
        </section>
        <section aria-labelledby="anomalies-title">
          <h2 id="anomalies-title">Recent anomalous lines</h2>
          <Async resource={anomalies} label="anomalous lines" retry={refetchAnomalies}>
            {(data) => <AnomalyTable data={data} />}
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
