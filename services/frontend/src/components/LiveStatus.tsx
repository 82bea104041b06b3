import { Show } from 'solid-js';
import { clock } from '../api.ts';
import type { LiveConnection, LiveState } from '../live.ts';

const LABELS: Record<LiveState, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  polling: 'polling every 5 s (stream down)',
  paused: 'paused',
};

/** Whether what is on screen is current, and the switch to freeze it while reading. */
export function LiveStatus(props: { live: LiveConnection }) {
  const paused = () => props.live.state() === 'paused';
  return (
    <div class="live">
      <span class={`live-state ${props.live.state()}`} role="status" data-state={props.live.state()}>
        <span class="dot" aria-hidden="true" />
        {LABELS[props.live.state()]}
        <Show when={props.live.lastUpdate()}>
          {(at) => <span class="live-time"> · updated {clock(at())}</span>}
        </Show>
      </span>
      <button
        type="button"
        class="ghost"
        aria-pressed={paused()}
        onClick={() => (paused() ? props.live.resume() : props.live.pause())}
      >
        {paused() ? 'Resume' : 'Pause'}
      </button>
    </div>
  );
}
