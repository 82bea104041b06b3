import { createServer } from 'node:http';
import { FluentClient } from '@fluent-org/logger';

/**
 * The application container of the fault suite: serves GET /healthz, and writes numbered log lines at
 * RATE per second to the router over the forward protocol, as the awsfirelens driver carries stdout.
 * The client's queue is bounded (like the driver's `log-driver-buffer-limit`); what it sheds is counted.
 * GET /rate?n=… changes the rate; GET /stats answers {"emitted","failed","next"}.
 */

const client = new FluentClient('app-firelens-0123', {
  socket: { host: '127.0.0.1', port: Number(process.env.FORWARD_PORT), timeout: 3000 },
  sendQueueMaxLimit: { length: 20_000 },
});
let rate = Number(process.env.RATE ?? 100);
let next = 0;
let emitted = 0;
let failed = 0;

// Lines are emitted in 10 ms ticks; an emit never blocks or throws into the app.
setInterval(() => {
  const count = Math.round(rate / 100);
  for (let i = 0; i < count; i++) {
    const seq = next++;
    const line =
      seq % 50 === 7
        ? `ERROR request ${seq} failed: upstream timeout`
        : `INFO request ${seq} served in ${seq % 9} ms`;
    client.emit({ log: line, source: 'stdout', container_name: 'app' }).then(
      () => {
        emitted += 1;
      },
      () => {
        failed += 1;
      },
    );
  }
}, 10);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://app');
  if (url.pathname === '/healthz') return void res.writeHead(200).end('ok');
  if (url.pathname === '/rate') {
    rate = Number(url.searchParams.get('n'));
    return void res.writeHead(204).end();
  }
  if (url.pathname === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ emitted, failed, next }));
  }
  res.writeHead(404).end();
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
