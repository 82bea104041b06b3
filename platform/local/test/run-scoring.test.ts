import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SIDECAR_PATHS } from '../../../contracts/sidecar.ts';
import { settledRunLines } from '../run-scoring.ts';

/**
 * A job run's lines are read from its sidecar once it holds nothing back. Found under load
 * (TEST_CONCURRENCY=4 and a CPU-bound job): a failed run was listed with "0 scored · 0 anomalous". The
 * counts and the metrics were read at once, so a batch scored between the two reads left counts from
 * before it and metrics from after it, which said "settled". The stand-in sidecar below scores its one
 * batch in exactly that gap: it answers a metrics request only after a counts request was answered
 * (or after 1 s, when none comes), and the batch is scored just before that metrics answer.
 */
const LINES = 40;
let server: Server;
let url = '';
let scored = 0;
let countsAnswered = false;

before(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://sidecar').pathname;
    const json = (body: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (path === SIDECAR_PATHS.counts) {
      json({ service: 'job', received: LINES, scored, anomalous: 0, scorerFailures: 0, classes: {} });
      countsAnswered = true;
      return;
    }
    if (path === SIDECAR_PATHS.metrics) {
      const since = Date.now();
      const answer = () => {
        if (!countsAnswered && Date.now() - since < 1000) return void setTimeout(answer, 10);
        scored = LINES;
        res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end(
            `sidecar_records_received_total ${LINES}\nsidecar_queue_depth 0\nsidecar_records_in_flight 0\n`,
          );
      };
      answer();
      return;
    }
    if (path === SIDECAR_PATHS.anomalies) return json({ service: 'job', records: [] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => server.close());

describe('settledRunLines', () => {
  it('counts the lines scored by the time the sidecar said it was settled', async () => {
    const { lines } = await settledRunLines(url, LINES, 10_000, 20);
    assert.deepEqual(lines, { received: LINES, scored: LINES, anomalous: 0 });
  });
});
