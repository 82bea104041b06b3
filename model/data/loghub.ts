import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsvRecords } from './csv.ts';

/**
 * Readers for the labelled evaluation data (DESIGN.md, Contracts): loghub line files, loghub
 * structured CSVs, and sessions JSONL.
 */

/**
 * The labelled evaluation data the tests and `npm run model:benchmark` read: the loghub files they use,
 * kept in the repository with loghub's licence notice and citation (`labelled/README.md`), so every
 * clone runs them; never built into an image or shipped.
 */
export const LABELLED_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'labelled');

/** One labelled log line: `label` is 1 for an alert, 0 for a normal line. */
export interface LabelledLine {
  readonly line: string;
  readonly label: 0 | 1;
}

/**
 * Splits loghub line-file text (`- 1117838570 2005.06.03 … message`): the first column is `-` for a
 * normal line and an alert category otherwise; the rest of the line is the log line.
 */
export function parseLoghubLines(text: string): LabelledLine[] {
  const out: LabelledLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const space = line.indexOf(' ');
    const tag = space < 0 ? line : line.slice(0, space);
    out.push({ line: space < 0 ? '' : line.slice(space + 1), label: tag === '-' ? 0 : 1 });
  }
  return out;
}

/**
 * Rebuilds labelled raw lines from a loghub `*_structured.csv` (used when only the structured file is
 * at hand): the header columns in file order, the component with its pid as syslog writes it, then
 * the content. Datasets without a `Label` column are all labelled normal.
 */
export function linesFromStructured(text: string): LabelledLine[] {
  return parseCsvRecords(text).map((r) => {
    const label = r.Label === undefined || r.Label === '-' ? 0 : 1;
    return { line: rebuildLine(r), label };
  });
}

/** The ground-truth `(content, eventId)` pairs of a structured CSV, for grouping accuracy. */
export function groundTruthTemplates(text: string): { content: string; eventId: string }[] {
  return parseCsvRecords(text).map((r) => ({ content: r.Content ?? '', eventId: r.EventId ?? '' }));
}

const SKIPPED = new Set(['LineId', 'Label', 'Content', 'EventId', 'EventTemplate']);

function rebuildLine(r: Record<string, string>): string {
  const parts: string[] = [];
  const keys = Object.keys(r);
  // BGL writes `RAS KERNEL INFO message`: a component followed by a level takes no colon.
  const levelAfterComponent = keys.indexOf('Level') > keys.indexOf('Component');
  for (const [key, value] of Object.entries(r)) {
    if (SKIPPED.has(key) || key === 'PID' || key === 'Pid') continue;
    if (key === 'Component' && levelAfterComponent) parts.push(value);
    else if (key === 'Component') {
      const pid = r.PID ?? r.Pid;
      parts.push(
        pid && r.PID !== undefined ? `${value}[${pid}]:` : value.endsWith(':') ? value : `${value}:`,
      );
    } else parts.push(value);
  }
  if (r.Pid !== undefined) parts.splice(2, 0, r.Pid);
  return `${parts.join(' ')} ${r.Content ?? ''}`;
}

/** Reads labelled lines from a loghub line file, or from a `*_structured.csv`. */
export function readLoghubFile(path: string): LabelledLine[] {
  const text = readFileSync(path, 'utf8');
  return path.endsWith('.csv') ? linesFromStructured(text) : parseLoghubLines(text);
}
