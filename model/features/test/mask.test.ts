import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { maskVariables } from '../index.ts';
import { MASKS } from '../mask.ts';

describe('maskVariables', () => {
  it('masks block ids, IPs with ports, hex, paths and numbers, most specific first', () => {
    assert.equal(
      maskVariables('Received block blk_-42 of size 67108864 from /10.250.19.102:50010'),
      'Received block blk_<*> of size <*> from /<*>',
    );
    assert.equal(maskVariables('iar 0x00106f60 dear 0x0246dd1c'), 'iar <*> dear <*>');
    assert.equal(maskVariables('open /var/log/app.log failed'), 'open <*> failed');
    assert.equal(maskVariables('took -3.5 ms, 12 retries'), 'took <*> ms, <*> retries');
    assert.equal(maskVariables('request 8f14e45f-ceea-467e-a9b3-0e6b2f1f3c1d done'), 'request <*> done');
    assert.equal(maskVariables('sha deadbeef12 ok'), 'sha <*> ok');
  });

  it('keeps digits glued to words (node names, versions) for the miner to judge', () => {
    assert.equal(maskVariables('node R02-M1-N0 an14 v001 ext3 up'), 'node R02-M1-N0 an14 v001 ext3 up');
  });

  it('leaves a message without variables unchanged', () => {
    assert.equal(
      maskVariables('instruction cache parity error corrected'),
      'instruction cache parity error corrected',
    );
  });
});

describe('maskVariables shortcuts', () => {
  it('skip only patterns that could not have matched: same result as applying every pattern', () => {
    const everyPattern = (m: string) =>
      MASKS.reduce((out, { pattern, replacement }) => out.replace(pattern, replacement), m);
    const token = fc.constantFrom(
      'blk_-123',
      'blk_',
      '0x1F',
      '0X',
      'deadbeef12',
      'abcdefab',
      '10.0.0.1:80',
      '1.2.3',
      '/var/log',
      './a',
      '~/b',
      'a/b',
      '-3.5',
      '12',
      'R02',
      '123e4567-e89b-12d3-a456-426614174000',
      'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      '-',
      '.',
      'x',
      ',',
      'é',
    );
    const message = fc.oneof(
      fc
        .tuple(fc.array(token, { maxLength: 16 }), fc.constantFrom(' ', '', '-', '.', '/'))
        .map(([t, sep]) => t.join(sep)),
      fc.stringMatching(/^[0-9a-fA-FxX./:_bklR~ -]{0,60}$/),
      fc.string({ maxLength: 120 }),
    );
    fc.assert(
      fc.property(message, (m) => assert.equal(maskVariables(m), everyPattern(m))),
      { numRuns: 20_000 },
    );
  });
});
