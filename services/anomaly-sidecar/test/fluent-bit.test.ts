import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
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
    assert.equal(http.get('retry_limit'), '1');
    assert.equal(http.get('net.connect_timeout'), '2');
    assert.ok(
      Number(http.get('retry_limit')) < Number(output('cloudwatch_logs').get('retry_limit')),
      'the sidecar output gives up long before the delivery output',
    );
  });

  it('caps retry waits so chunks held for the sidecar are released within seconds', () => {
    const service = config[0]!.entries;
    assert.equal(service.get('scheduler.cap'), '5');
    assert.equal(service.get('scheduler.base'), '1');
  });

  it('buffers chunks on the task volume, a bounded number in memory, flushed every 0.2 s (issue 25)', () => {
    const service = config[0]!.entries;
    assert.equal(service.get('storage.path'), LOG_ROUTER.storagePath);
    assert.equal(service.get('storage.max_chunks_up'), '128');
    assert.equal(service.get('flush'), '0.2');
    assert.equal(
      outputs.some((o) => o.entries.has('storage.total_limit_size')),
      false,
      'no output limit: Fluent Bit 1.9 deletes chunks over it without logging or counting them',
    );
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
