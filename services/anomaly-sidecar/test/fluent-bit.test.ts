import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { LOG_ROUTER_CONTAINER } from '../../../platform/wiring/platform-containers.ts';
import { LOG_ROUTER, SIDECAR_PATHS, SIDECAR_PORT } from '../contract.ts';

/** Parses Fluent Bit's classic configuration format: `[SECTION]` headers, `key value` lines, `#` comments. */
function parseFluentBitConfig(text: string): { section: string; entries: Map<string, string> }[] {
  const sections: { section: string; entries: Map<string, string> }[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[([A-Z_]+)\]$/.exec(line);
    if (header) {
      sections.push({ section: header[1]!, entries: new Map() });
      continue;
    }
    const entry = /^(\S+)\s+(.+)$/.exec(line);
    assert.ok(entry, `line ${index + 1} is neither a section nor 'key value': ${raw}`);
    const current = sections.at(-1);
    assert.ok(current, `line ${index + 1} is outside any section`);
    const key = entry[1]!.toLowerCase();
    assert.ok(!current.entries.has(key), `line ${index + 1}: duplicate key ${entry[1]}`);
    current.entries.set(key, entry[2]!.trim());
  }
  return sections;
}

const configOf = (kind: 'scored' | 'plain') =>
  parseFluentBitConfig(
    readFileSync(new URL(`../../../${LOG_ROUTER.configSources[kind]}`, import.meta.url), 'utf8'),
  );
const config = configOf('scored');
const outputs = config.filter((s) => s.section === 'OUTPUT');
const output = (name: string) => {
  const found = outputs.find((o) => o.entries.get('name') === name);
  assert.ok(found, `an ${name} output`);
  return found.entries;
};

describe('FireLens custom configuration', () => {
  it('routes the app to CloudWatch and the sidecar, the sidecar to the anomaly group only; no input', () => {
    assert.deepEqual(
      config.map((s) => s.section),
      ['SERVICE', 'OUTPUT', 'OUTPUT', 'OUTPUT'],
    );
    assert.deepEqual(
      outputs.map((o) => [o.entries.get('name'), o.entries.get('match'), o.entries.get('log_group_name')]),
      [
        ['cloudwatch_logs', 'app-firelens-*', `\${${LOG_ROUTER.env.logGroupName}}`],
        ['http', 'app-firelens-*', undefined],
        ['cloudwatch_logs', 'anomaly-sidecar-firelens-*', `\${${LOG_ROUTER.env.anomalyLogGroupName}}`],
      ],
    );
    assert.equal(outputs[2]!.entries.get('log_format'), 'json/emf');
  });

  it('delivers every line to CloudWatch Logs, into the group the stack created', () => {
    const cw = output('cloudwatch_logs');
    assert.equal(cw.get('region'), `\${${LOG_ROUTER.env.region}}`);
    assert.equal(cw.get('log_group_name'), `\${${LOG_ROUTER.env.logGroupName}}`);
    assert.equal(cw.get('log_stream_prefix'), `\${${LOG_ROUTER.env.logStreamPrefix}}`);
    assert.equal(cw.get('auto_create_group'), 'false');
    assert.equal(cw.get('log_key'), 'log');
    assert.equal(cw.get('retry_limit'), '15');
  });

  it('sends the same records to the sidecar on loopback, format json, best-effort', () => {
    const http = output('http');
    assert.equal(http.get('host'), '127.0.0.1');
    assert.equal(http.get('port'), String(SIDECAR_PORT));
    assert.equal(http.get('uri'), SIDECAR_PATHS.intake);
    assert.equal(http.get('format'), 'json');
    assert.equal(http.get('json_date_key'), 'date');
    assert.equal(http.get('json_date_format'), 'double');
    // One attempt: a retried chunk stays in memory through its retry wait, and with scoring down the
    // retries starved CloudWatch's delivery (router-volume.test.ts measures it).
    assert.equal(http.get('retry_limit'), 'no_retries');
    assert.equal(http.get('net.connect_timeout'), '2');
  });

  it('caps retry waits so a chunk CloudWatch throttled is retried within seconds', () => {
    const service = config[0]!.entries;
    assert.equal(service.get('scheduler.cap'), '5');
    assert.equal(service.get('scheduler.base'), '1');
  });

  it('buffers chunks on the task volume, flushed every 0.2 s (issue 25)', () => {
    const service = config[0]!.entries;
    assert.equal(service.get('storage.path'), LOG_ROUTER.storagePath);
    assert.equal(service.get('flush'), '0.2');
  });

  it("holds the chunks in memory under the router's hard limit, bounded per output (issue 25)", () => {
    // Fluent Bit 1.9 closes a filesystem chunk at about 2 MB (1.7 MB measured at 0.2 s flushes).
    const chunkMiB = 2;
    const maxUp = Number(config[0]!.entries.get('storage.max_chunks_up'));
    const limit = LOG_ROUTER_CONTAINER.memoryLimitMiB;
    // A quarter of the limit left for the rest of the process (measured: 78 MiB RSS at 200k lines/s).
    assert.ok(
      maxUp * chunkMiB <= limit * 0.75,
      `${maxUp} chunks up of ${chunkMiB} MiB leave too little of the router's ${limit} MiB`,
    );
    // Past storage.max_chunks_up 1.9 pages a chunk in and out on every append and the router
    // collapses (3k lines/s delivered at 200k offered); its forward input cannot pause without
    // discarding what it reads. So what the app's outputs may hold stays below it.
    const mib = (size: string | undefined) => {
      const m = /^(\d+)([KMG])$/i.exec(size ?? '');
      assert.ok(m, `storage.total_limit_size ${size}: a size like 64M`);
      return Number(m[1]) * { K: 1 / 1024, M: 1, G: 1024 }[m[2]!.toUpperCase() as 'K' | 'M' | 'G'];
    };
    for (const kind of ['scored', 'plain'] as const) {
      const appOutputs = configOf(kind).filter(
        (s) => s.section === 'OUTPUT' && s.entries.get('match') === 'app-firelens-*',
      );
      const held = appOutputs.reduce((sum, o) => sum + mib(o.entries.get('storage.total_limit_size')), 0);
      assert.ok(held / chunkMiB < maxUp, `${kind}: ${held} MiB of chunks held by the app's outputs`);
    }
  });

  it('the CloudWatch-only config buffers exactly as the scored one', () => {
    const plain = configOf('plain');
    for (const section of ['SERVICE']) {
      assert.deepEqual(
        [...plain.find((s) => s.section === section)!.entries],
        [...config.find((s) => s.section === section)!.entries],
        section,
      );
    }
  });

  it('the router image bakes both files at the paths the contract names, on the pinned base', () => {
    const dockerfile = readFileSync(new URL(`../../../${LOG_ROUTER.dockerfile}`, import.meta.url), 'utf8');
    for (const kind of ['scored', 'plain'] as const) {
      assert.ok(
        dockerfile.includes(`\nCOPY ${LOG_ROUTER.configSources[kind]} ${LOG_ROUTER.configFiles[kind]}\n`),
        kind,
      );
    }
    assert.match(LOG_ROUTER.baseImage, /^[^:@]+:\d+\.\d+\.\d+[.\d]*@sha256:[0-9a-f]{64}$/);
    assert.ok(dockerfile.includes(`\nARG FLUENT_BIT_IMAGE=${LOG_ROUTER.baseImage}\n`));
  });
});
