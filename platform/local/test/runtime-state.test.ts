import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RuntimeState, writeState } from '../runtime-state.ts';

/**
 * The state file holds the control token. Issue 25: its temporary name was predictable
 * (`${file}.${pid}.tmp`) and its mode applied only when the file was created, so in a world-writable
 * directory another user could pre-create that name 0666 and end up owning a readable runtime.json.
 */

const dir = mkdtempSync(join(tmpdir(), 'state-hijack-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// A directory every user may write in, as a shared LOCAL_STATE_FILE location would be.
chmodSync(dir, 0o777);
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

const state: RuntimeState = {
  supervisorPid: process.pid,
  startedAt: '2026-12-01T22:00:00.000Z',
  urls: { web: 'http://127.0.0.1:8080', api: 'http://127.0.0.1:8081', model: null },
  control: { url: 'http://127.0.0.1:40000', token: 'control-token-that-must-stay-private' },
  processes: [],
};

describe('writeState', () => {
  it("another user's file at the old temporary name neither receives the token nor becomes the state file", () => {
    const file = join(dir, 'runtime.json');
    const planted = `${file}.${process.pid}.tmp`;
    writeFileSync(planted, '');
    chmodSync(planted, 0o666);
    if (asRoot) chownSync(planted, NOBODY, NOBODY);

    writeState(file, state);

    const written = statSync(file);
    assert.equal(written.mode & 0o777, 0o600, `mode ${(written.mode & 0o777).toString(8)}`);
    assert.equal(written.uid, process.getuid?.());
    assert.equal(readFileSync(planted, 'utf8'), '', 'the planted file received the token');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), state);
  });

  it('sets the mode on every write, not only when the file is created', () => {
    const file = join(dir, 'again.json');
    writeFileSync(file, '{}');
    chmodSync(file, 0o644);
    writeState(file, state);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('leaves no temporary file behind, and names none after the process id', () => {
    const file = join(dir, 'clean.json');
    for (let i = 0; i < 5; i++) writeState(file, state);
    const left = readdirSync(dir).filter((name) => name.includes('clean.json') && name !== 'clean.json');
    assert.deepEqual(left, []);
  });
});
