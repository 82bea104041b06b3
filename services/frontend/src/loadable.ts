import { type Accessor, createSignal } from 'solid-js';

/** A value that is loaded, replaced by pushes, and reloaded; its last error is kept beside it. */
export interface Loadable<T> {
  readonly value: Accessor<T | undefined>;
  readonly error: Accessor<unknown>;
  set(value: T): void;
  reload(): Promise<void>;
}

/**
 * Unlike a resource read once inside a `<Show>` callback, every consumer reads `value()` in its own
 * reactive scope, so a new answer always replaces the one on screen. A failed reload keeps the last
 * value and records the error, so the panel can say "showing data from …; refresh failed".
 */
export function createLoadable<T>(fetcher: () => Promise<T>): Loadable<T> {
  const [value, setValue] = createSignal<T>();
  const [error, setError] = createSignal<unknown>();
  let sequence = 0;
  return {
    value,
    error,
    set(next) {
      sequence += 1;
      setValue(() => next);
      setError(undefined);
    },
    async reload() {
      const mine = ++sequence;
      try {
        const next = await fetcher();
        // A slower, older request must not overwrite a newer answer (or a pushed value).
        if (mine !== sequence) return;
        setValue(() => next);
        setError(undefined);
      } catch (failure) {
        if (mine === sequence) setError(failure);
      }
    },
  };
}
