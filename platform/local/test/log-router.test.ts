import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { waitFor } from '../../../test/support/wait-for.ts';
import {
  type FluentBitRecord,
  LineSplitter,
  PrefixPrinter,
  routeProcessOutput,
  SidecarForwarder,
} from '../log-router.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A sidecar-shaped intake that records what it receives and answers with `status()`. */
const TOKEN = 'intake-token-of-this-test-0123456789abcdef';

async function intake(status: () => number = () => 200) {
  const received: FluentBitRecord[][] = [];
  const tokens: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    tokens.push(req.headers['x-intake-token'] as string | undefined);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const code = status();
      if (code === 200)
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as FluentBitRecord[]);
      res.writeHead(code).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`, received, tokens, server };
}

const record = (log: string): FluentBitRecord => ({
  date: 1764333044.5,
  log,
  container_name: 'backend',
  source: 'stdout',
  ecs_task_arn: 'arn:aws:ecs:local:000000000000:task/acme/42',
  ecs_cluster: 'acme',
});

describe('LineSplitter', () => {
  it('joins partial lines across chunks and strips CR', () => {
    const split = new LineSplitter();
    assert.deepEqual(split.push('a\r\nb'), ['a']);
    assert.deepEqual(split.push('c\n\nd'), ['bc', '']);
    assert.deepEqual(split.end(), ['d']);
    assert.deepEqual(split.end(), []);
  });

  it('decodes a multi-byte character split between chunks', () => {
    const split = new LineSplitter();
    const bytes = Buffer.from('é\n');
    assert.deepEqual(split.push(bytes.subarray(0, 1)), []);
    assert.deepEqual(split.push(bytes.subarray(1)), ['é']);
  });

  it('cuts lines longer than the limit into pieces, even before their end arrives', () => {
    const split = new LineSplitter(4);
    assert.deepEqual(split.push('abcdefghij'), ['abcd', 'efgh']);
    assert.deepEqual(split.push('k\n'), ['ijk']);
  });

  it('yields exactly the lines of the input however it is chunked (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'é', ' ', '{') }), { maxLength: 20 }),
        fc.array(fc.nat(40), { maxLength: 10 }),
        (lines, cuts) => {
          const text = lines.map((l) => `${l}\n`).join('');
          const bytes = Buffer.from(text);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const split = new LineSplitter();
          const out: string[] = [];
          let last = 0;
          for (const p of [...points, bytes.length]) {
            out.push(...split.push(bytes.subarray(last, p)));
            last = p;
          }
          out.push(...split.end());
          assert.deepEqual(out, lines);
        },
      ),
    );
  });
});

describe('SidecarForwarder', () => {
  it('posts batches in Fluent Bit http/json format, in order', async () => {
    const sidecar = await intake();
    const forwarder = new SidecarForwarder({
      url: sidecar.url,
      token: TOKEN,
      maxBatch: 2,
      flushIntervalMs: 10,
    });
    for (const line of ['one', 'two', 'three']) forwarder.push(record(line));
    await waitFor('three records forwarded', 3000, () => forwarder.stats.forwarded === 3);
    assert.deepEqual(
      sidecar.received.flat().map((r) => r.log),
      ['one', 'two', 'three'],
    );
    assert.deepEqual(sidecar.received[0]![0], record('one'));
    assert.ok(sidecar.received.every((batch) => batch.length <= 2));
    // Every body carries the task's intake token, as FireLens's http output sends it.
    assert.deepEqual(new Set(sidecar.tokens), new Set([TOKEN]));
    await forwarder.close();
  });

  it('never blocks push while the sidecar is down: drops the oldest past the bound and counts them', async () => {
    const troubles: string[] = [];
    const forwarder = new SidecarForwarder({
      token: TOKEN,
      url: 'http://127.0.0.1:1/logs',
      maxBuffered: 5,
      flushIntervalMs: 5,
      retryDelayMs: 20,
      onTrouble: (m) => troubles.push(m),
    });
    const t0 = performance.now();
    for (let i = 0; i < 1000; i += 1) forwarder.push(record(`line ${i}`));
    assert.ok(performance.now() - t0 < 200, 'push returns immediately');
    assert.deepEqual(
      { dropped: forwarder.stats.dropped, buffered: forwarder.stats.buffered },
      { dropped: 995, buffered: 5 },
    );
    await waitFor('a failed post', 3000, () => forwarder.stats.failedPosts >= 1);
    assert.equal(troubles[0], 'log buffer full (5 records); dropping the oldest until it drains');
    await forwarder.close();
  });

  it('keeps records through a sidecar outage and delivers them when it recovers', async () => {
    let status = 503;
    const sidecar = await intake(() => status);
    const troubles: string[] = [];
    const forwarder = new SidecarForwarder({
      token: TOKEN,
      url: sidecar.url,
      flushIntervalMs: 5,
      retryDelayMs: 20,
      onTrouble: (m) => troubles.push(m),
    });
    forwarder.push(record('kept'));
    await waitFor('two failed posts', 3000, () => forwarder.stats.failedPosts >= 2);
    status = 200;
    await waitFor('one record forwarded', 3000, () => forwarder.stats.forwarded === 1);
    assert.deepEqual(
      sidecar.received.flat().map((r) => r.log),
      ['kept'],
    );
    assert.equal(forwarder.stats.dropped, 0);
    assert.match(
      troubles[0]!,
      /^sidecar unreachable at http:\/\/127\.0\.0\.1:\d+\/logs; buffering up to 10000 records$/,
    );
    assert.equal(troubles[1], 'log delivery resumed (0 records dropped so far)');
    await forwarder.close();
  });

  it('counts records the sidecar refuses with a 4xx instead of retrying them forever', async () => {
    const sidecar = await intake(() => 400);
    const forwarder = new SidecarForwarder({ url: sidecar.url, token: TOKEN, flushIntervalMs: 5 });
    forwarder.push(record('bad'));
    forwarder.push(record('worse'));
    await waitFor('two records rejected', 3000, () => forwarder.stats.rejected === 2);
    assert.deepEqual(forwarder.stats, { forwarded: 0, dropped: 0, rejected: 2, failedPosts: 0, buffered: 0 });
    await forwarder.close();
  });
});

describe('routeProcessOutput', () => {
  it('prints every line prefixed and forwards it with its stream and the FireLens fields', async () => {
    const sidecar = await intake();
    const forwarder = new SidecarForwarder({ url: sidecar.url, token: TOKEN, flushIntervalMs: 5 });
    const printed = new PassThrough();
    let text = '';
    printed.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const printer = new PrefixPrinter(printed, false);
    printer.register('backend/sidecar');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const done = routeProcessOutput(stdout, stderr, {
      label: 'backend',
      printer,
      forwarder,
      containerName: 'backend',
      taskArn: 'arn:aws:ecs:local:000000000000:task/acme/42',
      cluster: 'acme',
    });
    stdout.write('GET / 200\nhalf');
    stderr.end('Error: boom\n');
    stdout.end(' done');
    await done;
    await forwarder.close();
    assert.equal(
      text,
      'backend         | GET / 200\nbackend         | Error: boom\nbackend         | half done\n',
    );
    const records = sidecar.received.flat();
    assert.deepEqual(
      records.map((r) => [r.source, r.log, r.container_name, r.ecs_task_arn, r.ecs_cluster]),
      [
        ['stdout', 'GET / 200', 'backend', 'arn:aws:ecs:local:000000000000:task/acme/42', 'acme'],
        ['stderr', 'Error: boom', 'backend', 'arn:aws:ecs:local:000000000000:task/acme/42', 'acme'],
        ['stdout', 'half done', 'backend', 'arn:aws:ecs:local:000000000000:task/acme/42', 'acme'],
      ],
    );
    for (const r of records) assert.ok(Math.abs(r.date - Date.now() / 1000) < 5, 'date is epoch seconds');
  });

  it('colours the prefix on a terminal', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => {
      text += c.toString();
    });
    new PrefixPrinter(out, true).print('model', 'hello');
    assert.equal(text, '\x1b[36mmodel |\x1b[0m hello\n');
  });
});
