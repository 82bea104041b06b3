import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { BodyLimitError, IntakeBudget, readIncomingBounded } from '../body-reader.ts';

/**
 * readIncomingBounded: a Node request read directly, with the limits and the budget of readBodyBounded
 * (the sidecar's intake reads every body this way).
 */

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe('readIncomingBounded', () => {
  it('joins the chunks; the caller then owns the reservation of the body', async () => {
    const budget = new IntakeBudget(1000);
    const incoming = new PassThrough();
    const read = readIncomingBounded(incoming, 100, budget);
    incoming.write('hello ');
    incoming.end('world');
    const bytes = await read;
    assert.equal(text(bytes), 'hello world');
    assert.equal(budget.reserved, 11);
  });

  it('refuses a body past the limit, stops reading and releases what it held', async () => {
    const budget = new IntakeBudget(1000);
    const incoming = new PassThrough();
    const read = readIncomingBounded(incoming, 10, budget);
    incoming.write('0123456789');
    incoming.write('x');
    await assert.rejects(read, (e: unknown) => e instanceof BodyLimitError && e.reason === 'too_large');
    assert.equal(budget.reserved, 0);
    assert.equal(incoming.listenerCount('data'), 0, 'nothing more is read');
  });

  it('refuses with busy when the shared budget is spent, and releases what it held', async () => {
    const budget = new IntakeBudget(15);
    assert.ok(budget.tryReserve(10), 'another body holds 10 bytes');
    const incoming = new PassThrough();
    const read = readIncomingBounded(incoming, 100, budget);
    incoming.write('abc');
    incoming.write('defgh');
    await assert.rejects(read, (e: unknown) => e instanceof BodyLimitError && e.reason === 'busy');
    assert.equal(budget.reserved, 10, "only the other body's bytes");
  });

  it('rejects a request that ends before its body, releasing what it held', async () => {
    const budget = new IntakeBudget(1000);
    const incoming = new PassThrough();
    const read = readIncomingBounded(incoming, 100, budget);
    incoming.write('partial');
    await new Promise((resolve) => setImmediate(resolve));
    incoming.destroy();
    await assert.rejects(read, /ended before its body/);
    assert.equal(budget.reserved, 0);
  });
});
