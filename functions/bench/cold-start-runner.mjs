// Runs in a fresh Node process: load one handler module, serve one event, report timings as JSON.
// Usage: node [--import tsx] cold-start-runner.mjs <module> <event.json>
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [modulePath, eventPath] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventPath, 'utf8'));
const start = performance.now();
const { handler } = await import(pathToFileURL(modulePath).href);
const loaded = performance.now();
const result = await handler(event, {});
const served = performance.now();
process.stdout.write(
  `${JSON.stringify({
    loadMs: loaded - start,
    firstEventMs: served - loaded,
    coldMs: served - start,
    result: result?.statusCode ?? result?.outcome ?? result?.status ?? result?.hookStatus ?? null,
  })}\n`,
);
