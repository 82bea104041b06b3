import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ApiError } from '../../../contracts/errors.ts';

/**
 * Reads and validates a state file; `undefined` when it does not exist yet. A file that is not valid
 * is a 502 naming the first issue, since another process produced it and the operator must fix that.
 */
export async function readStateFile<S extends z.ZodType>(
  path: string,
  schema: S,
  what: string,
): Promise<z.infer<S> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ApiError('bad_gateway', `the local ${what} state file cannot be read`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError('bad_gateway', `the local ${what} state file is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError(
      'bad_gateway',
      `the local ${what} state file does not match the contract (${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'})`,
    );
  }
  return parsed.data;
}
