import {
  type ClassCounts,
  MAX_REQUEST_CLASSES,
  NOT_FOUND_CLASS,
  OTHER_LINES_CLASS,
  OVERFLOW_CLASS,
  type RevisionCounts,
} from '../../../contracts/revision-counts.ts';

/**
 * Request classes: the route (method and path template) of each request line the service writes, so the
 * deployment gate can compare the new revision with the old one per route and a flood of one healthy
 * route cannot dilute a failing one (contracts/revision-counts.ts). Lines that are not request lines
 * (start-up, errors, stack traces) form one class of their own.
 */

/** What a request line says. */
export interface RequestLine {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

const METHOD = /^[A-Z]{3,7}$/;
/** Common and Combined Log Format: `… "GET /path HTTP/1.1" 200 …` (nginx, Apache, Python, Go). */
const ACCESS_LOG = /"([A-Z]{3,7}) (\/[^ "]*) HTTP\/\d(?:\.\d)?" (\d{3})\b/;

/**
 * The request a log line reports, from the shapes services commonly write: this platform's request log
 * (`method`, `path`, `status`), pino-http (`req.method`, `req.url`, `res.statusCode`), `url`/`statusCode`
 * at the top level, and the Common/Combined Log Format. Undefined for any other line.
 *
 * @example
 * parseRequestLine('{"msg":"request","method":"GET","path":"/api/services","status":200}');
 * // → { method: 'GET', path: '/api/services', status: 200 }
 */
export function parseRequestLine(line: string): RequestLine | undefined {
  if (line.startsWith('{')) {
    // A cheap look before parsing: a JSON line with no status field is no request line.
    if (!line.includes('tatus')) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return undefined;
    }
    return fromJson(json);
  }
  const match = ACCESS_LOG.exec(line);
  return match ? valid(match[1], match[2], Number(match[3])) : undefined;
}

function fromJson(json: unknown): RequestLine | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const o = json as Record<string, unknown>;
  const req = (typeof o.req === 'object' && o.req !== null ? o.req : {}) as Record<string, unknown>;
  const res = (typeof o.res === 'object' && o.res !== null ? o.res : {}) as Record<string, unknown>;
  return valid(
    o.method ?? req.method,
    o.path ?? o.url ?? req.url ?? req.path,
    o.status ?? o.statusCode ?? res.statusCode ?? res.status,
  );
}

function valid(method: unknown, path: unknown, status: unknown): RequestLine | undefined {
  if (typeof method !== 'string' || !METHOD.test(method)) return undefined;
  if (typeof path !== 'string' || !path.startsWith('/')) return undefined;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
    return undefined;
  return { method, path, status };
}

/** Segments kept in a template; deeper paths end in `…`. */
const MAX_SEGMENTS = 8;
const NUMBER = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_ID = /^[0-9a-f]{12,}$/i;

/**
 * A path's template: no query or fragment, numbers as `{n}`, UUIDs, long hex strings and long tokens
 * with digits as `{id}`, at most eight segments. One route, one class, whatever ids it is called with.
 *
 * @example routeTemplate('/orders/42?x=1') // '/orders/{n}'
 */
export function routeTemplate(path: string): string {
  const bare = path.split(/[?#]/, 1)[0] ?? '/';
  const segments = bare.split('/').slice(1);
  const kept = segments.slice(0, MAX_SEGMENTS).map((segment) => {
    if (NUMBER.test(segment)) return '{n}';
    if (UUID.test(segment) || HEX_ID.test(segment)) return '{id}';
    if (segment.length >= 20 && /\d/.test(segment)) return '{id}';
    return segment;
  });
  return `/${kept.join('/')}${segments.length > MAX_SEGMENTS ? '/…' : ''}`;
}

/** A request's class: its route, or {@link NOT_FOUND_CLASS} for a 404 (so made-up paths make none). */
export function classOf(request: RequestLine): string {
  return request.status === 404 ? NOT_FOUND_CLASS : `${request.method} ${routeTemplate(request.path)}`;
}

/** Mutable counts, as {@link RevisionCounts}. */
class Counts {
  received = 0;
  scored = 0;
  anomalous = 0;
  scorerFailures = 0;
  classes = new Map<string, [number, number, number, number]>();

  of(name: string): [number, number, number, number] {
    let counts = this.classes.get(name);
    if (!counts) {
      counts = [0, 0, 0, 0];
      this.classes.set(name, counts);
    }
    return counts;
  }

  toJSON(): RevisionCounts {
    const classes: Record<string, ClassCounts> = {};
    for (const [name, counts] of this.classes) classes[name] = [...counts];
    return {
      received: this.received,
      scored: this.scored,
      anomalous: this.anomalous,
      scorerFailures: this.scorerFailures,
      classes,
    };
  }
}

function received(counts: Counts, name: string, request: RequestLine | undefined): void {
  counts.received += 1;
  if (!request) return;
  const cls = counts.of(name);
  cls[2] += 1;
  if (request.status >= 500) cls[3] += 1;
}

function scored(counts: Counts, name: string, anomalous: boolean): void {
  counts.scored += 1;
  const cls = counts.of(name);
  cls[0] += 1;
  if (anomalous) {
    counts.anomalous += 1;
    cls[1] += 1;
  }
}

/**
 * A revision's counts for the deployment gate, cumulative (`GET /counts`) and per EMF interval. At most
 * {@link MAX_REQUEST_CLASSES} routes get a class of their own; later ones count as {@link OVERFLOW_CLASS}.
 */
export class RequestClassCounter {
  private readonly total = new Counts();
  private interval = new Counts();
  private readonly routes = new Set<string>();

  /** Counts a line as it arrives (and its request, if it reports one); returns its class. */
  received(line: string): string {
    const request = parseRequestLine(line);
    const name = request ? this.admit(classOf(request)) : OTHER_LINES_CLASS;
    // Called for every line: the two counts in turn, without an array per call.
    received(this.total, name, request);
    received(this.interval, name, request);
    return name;
  }

  /** Counts a scored line of class `name`. */
  scored(name: string, anomalous: boolean): void {
    scored(this.total, name, anomalous);
    scored(this.interval, name, anomalous);
  }

  /** Counts a call to the model endpoint that failed (not one that refused its input). */
  scorerFailed(): void {
    this.total.scorerFailures += 1;
    this.interval.scorerFailures += 1;
  }

  /** Everything since the sidecar started. */
  snapshot(): RevisionCounts {
    return this.total.toJSON();
  }

  /** Since the last call; starts a new interval. */
  drainInterval(): RevisionCounts {
    const counts = this.interval.toJSON();
    this.interval = new Counts();
    return counts;
  }

  /** Whether the current interval has anything to report. */
  get intervalIsEmpty(): boolean {
    return this.interval.received === 0 && this.interval.scorerFailures === 0 && this.interval.scored === 0;
  }

  private admit(name: string): string {
    if (name === NOT_FOUND_CLASS || this.routes.has(name)) return name;
    if (this.routes.size >= MAX_REQUEST_CLASSES) return OVERFLOW_CLASS;
    this.routes.add(name);
    return name;
  }
}
