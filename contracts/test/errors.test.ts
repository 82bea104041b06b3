import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorBody, MAX_ERROR_BODY_CHARS, MAX_ERROR_ISSUES, toErrorResponse } from '../errors.ts';

describe('toErrorResponse', () => {
  it('hides anything that is not an ApiError behind a generic 500', () => {
    assert.deepEqual(toErrorResponse(new Error('secret stack detail')), {
      status: 500,
      body: { error: { code: 'internal', message: 'internal error' } },
    });
  });
});

describe('errorBody: bounded whatever the input', () => {
  it('100k unknown keys: one issue whose message is cut, not a 1.19 MB body', () => {
    const message = `Unrecognized keys: ${Array.from({ length: 100_000 }, (_, i) => `"k${i}"`).join(', ')}`;
    const body = errorBody('invalid_request', 'request does not match the schema', [
      { path: '(root)', message },
    ]);
    const text = JSON.stringify(body);
    assert.ok(text.length <= MAX_ERROR_BODY_CHARS, `${text.length} characters`);
    const issue = body.error.issues![0]!;
    assert.ok(issue.message.startsWith('Unrecognized keys: "k0", "k1"'));
    assert.match(issue.message, /… \(\d+ more characters\)$/);
  });

  it('5000 issues: the first ones, then one that counts the rest', () => {
    const issues = Array.from({ length: 5000 }, (_, i) => ({
      path: `data.${i}`,
      message: 'must have exactly 4 numbers',
    }));
    const body = errorBody('invalid_request', 'request does not match the schema', issues);
    assert.ok(JSON.stringify(body).length <= MAX_ERROR_BODY_CHARS);
    const kept = body.error.issues!;
    assert.equal(kept.length, MAX_ERROR_ISSUES + 1);
    assert.deepEqual(kept.slice(0, 2), issues.slice(0, 2));
    assert.deepEqual(kept.at(-1), {
      path: '(more)',
      message: `${5000 - MAX_ERROR_ISSUES} more issues not listed`,
    });
  });

  it('a short body is left exactly as it was', () => {
    assert.deepEqual(
      errorBody('not_found', 'no service named x', [{ path: 'service', message: 'unknown' }]),
      {
        error: {
          code: 'not_found',
          message: 'no service named x',
          issues: [{ path: 'service', message: 'unknown' }],
        },
      },
    );
  });
});
