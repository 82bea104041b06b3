/** The benchmark's sidecars and model endpoint, in their own process; prints one `upstreams {json}` line. */
import { startModelEndpoint, startSidecar } from '../../backend/test/support/upstream-servers.ts';

const frontend = await startSidecar('frontend', { records: 50 });
const backend = await startSidecar('backend', { records: 50 });
const model = await startModelEndpoint('log-anomaly');
console.log(
  `upstreams ${JSON.stringify({ sidecars: { frontend: frontend.url, backend: backend.url }, model: model.url })}`,
);
process.once('SIGTERM', () => process.exit(0));
