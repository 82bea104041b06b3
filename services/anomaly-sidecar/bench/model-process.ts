import { startInferenceServer } from '../../../model/serve/index.ts';

/**
 * The real inference server (model/serve) as its own process for the benchmark, so it can be killed to
 * simulate an endpoint outage and restarted on the same port. Prints `{"url":…}` once ready.
 */
const server = await startInferenceServer({ port: Number(process.env.PORT ?? 0), log: () => {} });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
