import { type Accessor, createSignal } from 'solid-js';
import { LIVE_EVENT_TYPES, LIVE_STREAM_EVENTS, type LiveEvent } from '../../../contracts/console-ops.ts';

/** What the console tells the operator about freshness. */
export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'paused';

export interface LiveOptions {
  /** Receives every pushed event. */
  readonly onEvent: (event: LiveEvent) => void;
  /** Re-reads everything over plain HTTP: the fallback when the stream does not work. */
  readonly poll: () => Promise<void>;
  /** @default 'api/events' (relative: the console may be served under a path) */
  readonly url?: string;
  /** Polling period while the stream is down. @default 5000 */
  readonly pollMs?: number;
  /** Failed attempts before polling starts alongside the retries. @default 2 */
  readonly errorsBeforePolling?: number;
}

export interface LiveConnection {
  readonly state: Accessor<LiveState>;
  /** When the last event or poll arrived, epoch ms. */
  readonly lastUpdate: Accessor<number | undefined>;
  pause(): void;
  resume(): void;
}

const MAX_BACKOFF_MS = 30_000;
/** Two drops within this are a page that keeps falling behind. */
const DROP_BACKOFF_MS = 30_000;

/**
 * The live connection: server-sent events from `/api/events` (EventSource retries a dropped stream
 * itself), a backoff reconnect when the browser gives up (an HTTP error answer closes it for good),
 * and polling while the stream is down, so the page never silently freezes.
 *
 * @example
 * const live = connectLive({ onEvent: apply, poll: refreshAll });
 * live.state(); // 'live'
 */
export function connectLive(options: LiveOptions): LiveConnection {
  const [state, setState] = createSignal<LiveState>('connecting');
  const [lastUpdate, setLastUpdate] = createSignal<number>();
  const pollMs = options.pollMs ?? 5000;
  const errorsBeforePolling = options.errorsBeforePolling ?? 2;
  let source: EventSource | undefined;
  let pollTimer: ReturnType<typeof setInterval> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let errors = 0;
  let paused = false;
  let lastDropAt = Number.NEGATIVE_INFINITY;

  const poll = () =>
    options.poll().then(
      () => setLastUpdate(Date.now()),
      () => undefined,
    );
  const startPolling = () => {
    if (pollTimer !== undefined) return;
    setState('polling');
    void poll();
    pollTimer = setInterval(poll, pollMs);
  };
  const stopPolling = () => {
    if (pollTimer !== undefined) clearInterval(pollTimer);
    pollTimer = undefined;
  };

  const onFailure = () => {
    errors += 1;
    if (errors >= errorsBeforePolling) startPolling();
    else if (pollTimer === undefined) setState('reconnecting');
  };

  const connect = () => {
    if (typeof EventSource === 'undefined') {
      startPolling();
      return;
    }
    const es = new EventSource(options.url ?? 'api/events');
    source = es;
    es.addEventListener(LIVE_STREAM_EVENTS.ready, () => {
      errors = 0;
      stopPolling();
      setState('live');
      setLastUpdate(Date.now());
    });
    for (const type of LIVE_EVENT_TYPES) {
      es.addEventListener(type, (message) => {
        try {
          options.onEvent({ type, data: JSON.parse((message as MessageEvent<string>).data) } as LiveEvent);
          setLastUpdate(Date.now());
        } catch {
          // A malformed event is skipped; the next one (or the polling fallback) repairs the state.
        }
      });
    }
    // The backend dropped this stream because the page fell behind (a busy tab, a slow link): what it
    // missed is gone, so every view is read again and a fresh stream (which sends the current state)
    // replaces this one at once, not after the reconnect delay.
    es.addEventListener(LIVE_STREAM_EVENTS.dropped, () => {
      if (paused || source !== es) return;
      es.close();
      source = undefined;
      setState('reconnecting');
      void poll();
      // Dropped again soon after: the page keeps falling behind, so the next try waits a little.
      const now = Date.now();
      const delay = now - lastDropAt < DROP_BACKOFF_MS ? DROP_BACKOFF_MS / 10 : 0;
      lastDropAt = now;
      retryTimer = setTimeout(connect, delay);
    });
    es.onerror = () => {
      if (paused || source !== es) return;
      onFailure();
      if (es.readyState === EventSource.CLOSED) {
        // The browser will not retry this one (HTTP error, wrong type): retry ourselves, backing off.
        es.close();
        source = undefined;
        const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(errors, 5));
        retryTimer = setTimeout(connect, delay);
      }
    };
  };

  connect();
  return {
    state,
    lastUpdate,
    pause() {
      paused = true;
      source?.close();
      source = undefined;
      stopPolling();
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      setState('paused');
    },
    resume() {
      if (!paused) return;
      paused = false;
      errors = 0;
      setState('connecting');
      void poll();
      connect();
    },
  };
}
