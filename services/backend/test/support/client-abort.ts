/** The abort replay's one home is the local runtime's (platform/local/replays.ts); tests use it from there. */
export { abortMidUpload } from '../../../../platform/local/replays.ts';

/** Waits on a condition with a generous deadline (no fixed sleeps). */
export async function waitUntil(condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
