import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type LabelledLine, readLoghubFile } from './loghub.ts';

/** Input formats of `model:train` and `model:eval`. */
export type DatasetFormat = 'loghub' | 'jsonl' | 'sessions';

/** A labelled session: `{"id","label":0|1,"events":[string…],"split"?}`. */
export const SessionRecordSchema = z.object({
  id: z.string(),
  label: z.union([z.literal(0), z.literal(1)]),
  events: z.array(z.string()),
  split: z.enum(['train', 'test']).optional(),
});
export type SessionRecord = z.infer<typeof SessionRecordSchema>;

/** A JSON-lines log record: the line in `message` or `log` (Fluent Bit), an optional label. */
const JsonlRecordSchema = z.union([
  z.looseObject({ message: z.string(), label: z.union([z.literal(0), z.literal(1)]).optional() }),
  z.looseObject({ log: z.string(), label: z.union([z.literal(0), z.literal(1)]).optional() }),
]);

/** Reads a file, turning a missing or unreadable file into one clear message. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** SHA-256 of a file's bytes, for the artifact metadata. */
export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Labelled lines from a loghub line file (or structured CSV) or a JSON-lines file. */
export function readLabelledLines(path: string, format: 'loghub' | 'jsonl'): LabelledLine[] {
  readText(path); // fail early with a clear message
  if (format === 'loghub') return readLoghubFile(path);
  return readText(path)
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, n]) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`${path}:${n}: not valid JSON`);
      }
      const parsed = JsonlRecordSchema.safeParse(value);
      if (!parsed.success)
        throw new Error(`${path}:${n}: expected an object with a string "message" or "log"`);
      const record = parsed.data as { message?: string; log?: string; label?: 0 | 1 };
      return { line: record.message ?? record.log ?? '', label: record.label ?? 0 };
    });
}

/** Sessions from a sessions JSONL file, validated line by line. */
export function readSessions(path: string): SessionRecord[] {
  return readText(path)
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, n]) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`${path}:${n}: not valid JSON`);
      }
      const parsed = SessionRecordSchema.safeParse(value);
      if (!parsed.success) throw new Error(`${path}:${n}: expected {"id","label":0|1,"events":[string…]}`);
      return parsed.data;
    });
}
