import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toErrorResponse } from '../errors.ts';

describe('toErrorResponse', () => {
  it('hides anything that is not an ApiError behind a generic 500', () => {
    assert.deepEqual(toErrorResponse(new Error('secret stack detail')), {
      status: 500,
      body: { error: { code: 'internal', message: 'internal error' } },
    });
  });
});
