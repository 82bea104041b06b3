import { connect } from 'node:net';

/** Sends the headers and the start of a 100 KB JSON body to `url`, then resets the connection. */
export async function abortMidUpload(url: string): Promise<void> {
  const { hostname, port, pathname } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(
    `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"logs":[`,
  );
  // Long enough for the server to start reading the body: the abort lands mid-upload.
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.resetAndDestroy();
}

/** Waits on a condition with a generous deadline (no fixed sleeps). */
export async function waitUntil(condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
