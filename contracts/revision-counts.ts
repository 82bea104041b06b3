import { z } from 'zod';

/**
 * What a revision's sidecar counts for the deployment gate: lines received, scored and anomalous, failed
 * calls to the model endpoint, and the same per **request class** (a route: method and path template,
 * from the service's own request lines). Locally the sidecar serves them cumulatively (`GET /counts`),
 * the rehearsal subtracting two readings; on AWS each EMF line carries one interval's counts as plain
 * properties (not metrics: no custom-metric cost per route), which the gate sums over its window.
 */

/** Lines that belong to no request (start-up, errors, stack traces): one class of their own. */
export const OTHER_LINES_CLASS = '(other lines)';
/** Requests answered 404: one class, so made-up paths cannot make classes of their own. */
export const NOT_FOUND_CLASS = '(not found)';
/** Routes beyond {@link MAX_REQUEST_CLASSES}, together. */
export const OVERFLOW_CLASS = '(other routes)';
/** Classes a sidecar tracks; memory and the EMF line stay bounded whatever paths clients send. */
export const MAX_REQUEST_CLASSES = 50;

const count = z.number().int().nonnegative();

/** One request class: `[scored lines, anomalous lines, requests, 5xx answers]`. */
export const ClassCountsSchema = z.tuple([count, count, count, count]);
export type ClassCounts = z.infer<typeof ClassCountsSchema>;

/** A revision's counts, cumulative (`GET /counts`) or over one interval (EMF). */
export const RevisionCountsSchema = z.object({
  received: count,
  scored: count,
  anomalous: count,
  /** Calls to the model endpoint that failed (an outage of the scorer shows here, not in `scored`). */
  scorerFailures: count,
  classes: z.record(z.string(), ClassCountsSchema),
});
export type RevisionCounts = z.infer<typeof RevisionCountsSchema>;

/** `GET /counts` on a sidecar. */
export const CountsResponseSchema = RevisionCountsSchema.extend({
  service: z.string(),
  revision: z.string().optional(),
});
export type CountsResponse = z.infer<typeof CountsResponseSchema>;

/** The EMF line's properties that carry {@link RevisionCounts} beyond its metrics. */
export const COUNTS_EMF_PROPERTIES = {
  received: 'LinesReceived',
  scorerFailures: 'ScorerFailures',
  classes: 'RequestClasses',
} as const;

export const EMPTY_COUNTS: RevisionCounts = {
  received: 0,
  scored: 0,
  anomalous: 0,
  scorerFailures: 0,
  classes: {},
};

/** `a + b`, class by class. */
export function addCounts(a: RevisionCounts, b: RevisionCounts): RevisionCounts {
  return combine(a, b, 1);
}

/** `later − earlier` of two cumulative readings of the same sidecar (never below 0). */
export function subtractCounts(later: RevisionCounts, earlier: RevisionCounts): RevisionCounts {
  return combine(later, earlier, -1);
}

function combine(a: RevisionCounts, b: RevisionCounts, sign: 1 | -1): RevisionCounts {
  const at = (x: number, y: number) => Math.max(0, x + sign * y);
  const classes: Record<string, ClassCounts> = {};
  for (const name of new Set([...Object.keys(a.classes), ...Object.keys(b.classes)])) {
    const x = a.classes[name] ?? [0, 0, 0, 0];
    const y = b.classes[name] ?? [0, 0, 0, 0];
    const sum: ClassCounts = [at(x[0], y[0]), at(x[1], y[1]), at(x[2], y[2]), at(x[3], y[3])];
    if (sum.some((n) => n > 0)) classes[name] = sum;
  }
  return {
    received: at(a.received, b.received),
    scored: at(a.scored, b.scored),
    anomalous: at(a.anomalous, b.anomalous),
    scorerFailures: at(a.scorerFailures, b.scorerFailures),
    classes,
  };
}
