import type { z } from 'zod';

/**
 * Reads a function's environment through a schema, once, at module scope. A misconfigured function
 * fails its cold start with every problem listed (Lambda reports it as an init error), instead of
 * answering requests with a half-read configuration.
 *
 * @example
 * const env = readEnvironment(z.object({ MODEL_ENDPOINT_NAME: z.string().min(1) }));
 */
export function readEnvironment<S extends z.ZodType>(
  schema: S,
  source: Readonly<Record<string, string | undefined>> = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
    );
    throw new Error(`invalid function environment: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** `"true"` / `"false"` as a boolean; anything else is rejected rather than guessed. */
export function booleanFlag(value: string): boolean {
  return value === 'true';
}
