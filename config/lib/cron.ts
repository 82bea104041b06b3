/**
 * EventBridge Scheduler's schedule expressions, parsed and evaluated: `cron(min hour dom month dow year)`
 * and `rate(n unit)`. Written here rather than taken from npm: the Unix cron parsers count days of the
 * week 0–6 from Sunday and have no year field, where EventBridge counts 1–7 from Sunday, has a year and
 * requires `?` in one of the two day fields; a translation layer would be as long as this file and
 * wrong in exactly those places. Pure: the declaration checks an expression with it, the wiring hands
 * its parsed form to the renderers, and the local runtime fires on {@link nextFireAfter}.
 */

/** A day-of-month field: plain days, `L` (last day), `LW` (last weekday), `nW` (weekday nearest n). */
export interface DayOfMonthField {
  readonly days: readonly number[];
  readonly last: boolean;
  readonly lastWeekday: boolean;
  readonly nearestWeekday: readonly number[];
}

/** A day-of-week field, 1 = Sunday … 7 = Saturday: plain days, `nL` (last such day), `n#k` (k-th such day). */
export interface DayOfWeekField {
  readonly days: readonly number[];
  readonly lastOfMonth: readonly number[];
  readonly nth: readonly { readonly day: number; readonly n: number }[];
}

/** A parsed cron expression; exactly one of the two day fields is set (the other was `?`). */
export interface CronFields {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly dayOfMonth: DayOfMonthField | null;
  readonly months: readonly number[];
  readonly dayOfWeek: DayOfWeekField | null;
  /** null: every year. */
  readonly years: readonly number[] | null;
}

/** A parse failure: what is wrong, for a declaration error. */
export class ScheduleSyntaxError extends Error {}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Parses the six fields of `cron(…)`; throws {@link ScheduleSyntaxError} naming the field. */
export function parseCron(expression: string): CronFields {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleSyntaxError(
      `has ${fields.length} fields where EventBridge takes 6 (minutes hours day-of-month month day-of-week year)`,
    );
  }
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleSyntaxError(
      'must have ? in exactly one of day-of-month and day-of-week (EventBridge cannot take both)',
    );
  }
  return {
    minutes: values('minutes', min, 0, 59),
    hours: values('hours', hour, 0, 23),
    dayOfMonth: dom === '?' ? null : dayOfMonth(dom),
    months: values('month', month, 1, 12, MONTHS),
    dayOfWeek: dow === '?' ? null : dayOfWeek(dow),
    years: year === '*' ? null : values('year', year, 1970, 2199),
  };
}

/** A list of `*`, `a`, `a-b`, `*\/s`, `a/s`, `a-b/s` items, expanded to sorted distinct values. */
function values(field: string, text: string, min: number, max: number, names?: readonly string[]): number[] {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item);
    if (!match) throw new ScheduleSyntaxError(`has an invalid ${field} field '${text}'`);
    const [, range, stepText] = match as unknown as [string, string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw new ScheduleSyntaxError(`has a step of 0 in the ${field} field`);
    let from = min;
    let to = max;
    if (range !== '*') {
      const [a, b] = range.split('-') as [string, string | undefined];
      from = number(field, a, min, max, names);
      to = b === undefined ? (stepText === undefined ? from : max) : number(field, b, min, max, names);
      if (to < from) throw new ScheduleSyntaxError(`has a backwards range '${range}' in the ${field} field`);
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return [...out].sort((x, y) => x - y);
}

function number(field: string, text: string, min: number, max: number, names?: readonly string[]): number {
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + min : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ScheduleSyntaxError(`has '${text}' in the ${field} field, outside ${min}-${max}`);
  }
  return value;
}

function dayOfMonth(text: string): DayOfMonthField {
  const days: number[] = [];
  const nearestWeekday: number[] = [];
  let last = false;
  let lastWeekday = false;
  for (const item of text.split(',')) {
    if (item === 'L') last = true;
    else if (item === 'LW') lastWeekday = true;
    else if (/^\d+W$/.test(item)) nearestWeekday.push(number('day-of-month', item.slice(0, -1), 1, 31));
    else days.push(...values('day-of-month', item, 1, 31));
  }
  return { days: [...new Set(days)].sort((a, b) => a - b), last, lastWeekday, nearestWeekday };
}

function dayOfWeek(text: string): DayOfWeekField {
  const days: number[] = [];
  const lastOfMonth: number[] = [];
  const nth: { day: number; n: number }[] = [];
  for (const item of text.split(',')) {
    const hash = /^([A-Za-z0-9]+)#([1-5])$/.exec(item);
    if (hash) {
      nth.push({ day: number('day-of-week', hash[1]!, 1, 7, WEEKDAYS), n: Number(hash[2]) });
    } else if (item === 'L') {
      lastOfMonth.push(7);
    } else if (/^[A-Za-z0-9]+L$/.test(item)) {
      lastOfMonth.push(number('day-of-week', item.slice(0, -1), 1, 7, WEEKDAYS));
    } else {
      days.push(...values('day-of-week', item, 1, 7, WEEKDAYS));
    }
  }
  return { days: [...new Set(days)].sort((a, b) => a - b), lastOfMonth, nth };
}

/** The parsed form of `rate(n unit)`, in minutes. */
export function parseRate(expression: string): { readonly value: number; readonly unit: RateUnit } {
  const match = /^(\d+)\s+(minute|minutes|hour|hours|day|days)$/.exec(expression.trim());
  if (!match)
    throw new ScheduleSyntaxError("must be 'rate(value unit)' with unit minute(s), hour(s) or day(s)");
  const value = Number(match[1]);
  const unit = match[2]!.replace(/s$/, '') as RateUnit;
  if (value < 1) throw new ScheduleSyntaxError('must have a value of 1 or more');
  // EventBridge: a value of 1 takes the singular unit, any other the plural.
  if ((value === 1) !== !match[2]!.endsWith('s')) {
    throw new ScheduleSyntaxError(
      `must say '${value} ${value === 1 ? unit : `${unit}s`}' (EventBridge's spelling)`,
    );
  }
  return { value, unit };
}

export type RateUnit = 'minute' | 'hour' | 'day';
export const RATE_UNIT_MINUTES: Readonly<Record<RateUnit, number>> = { minute: 1, hour: 60, day: 1440 };

/** The wall-clock fields of `instant` in `timeZone`. */
function wallClock(instant: number, format: Intl.DateTimeFormat) {
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! % 24,
    minute: parts.minute!,
  };
}

const formats = new Map<string, Intl.DateTimeFormat>();
function formatFor(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** Whether `timeZone` is an IANA time zone this runtime (and EventBridge) knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

const MINUTE = 60_000;

/**
 * The first minute strictly after `after` (epoch ms) at which `fields` fire in `timeZone`, or null when
 * none comes within ten years (a year list in the past). Walks wall-clock minutes, skipping whole days
 * and hours that cannot match.
 */
export function nextFireAfter(fields: CronFields, timeZone: string, after: number): number | null {
  const format = formatFor(timeZone);
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const end = after + 10 * 366 * 1440 * MINUTE;
  while (t < end) {
    const w = wallClock(t, format);
    if (!dayMatches(fields, w.year, w.month, w.day)) {
      t += ((23 - w.hour) * 60 + (60 - w.minute)) * MINUTE;
      continue;
    }
    if (!fields.hours.includes(w.hour)) {
      t += (60 - w.minute) * MINUTE;
      continue;
    }
    if (fields.minutes.includes(w.minute)) return t;
    t += MINUTE;
  }
  return null;
}

function dayMatches(fields: CronFields, year: number, month: number, day: number): boolean {
  if (fields.years && !fields.years.includes(year)) return false;
  if (!fields.months.includes(month)) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1; // 1 = Sunday
  const dom = fields.dayOfMonth;
  if (dom) {
    if (dom.days.includes(day) || (dom.last && day === daysInMonth)) return true;
    if (dom.lastWeekday && day === lastWeekdayOf(year, month, daysInMonth)) return true;
    return dom.nearestWeekday.some(
      (n) => day === nearestWeekday(year, month, Math.min(n, daysInMonth), daysInMonth),
    );
  }
  const dow = fields.dayOfWeek!;
  if (dow.days.includes(weekday)) return true;
  if (dow.lastOfMonth.includes(weekday) && day + 7 > daysInMonth) return true;
  return dow.nth.some((n) => n.day === weekday && Math.ceil(day / 7) === n.n);
}

const weekdayOf = (year: number, month: number, day: number) =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay();

function lastWeekdayOf(year: number, month: number, daysInMonth: number): number {
  let day = daysInMonth;
  while ([0, 6].includes(weekdayOf(year, month, day))) day -= 1;
  return day;
}

/** `nW`: the weekday nearest day n, never leaving the month. */
function nearestWeekday(year: number, month: number, n: number, daysInMonth: number): number {
  const w = weekdayOf(year, month, n);
  if (w === 6) return n === 1 ? 3 : n - 1;
  if (w === 0) return n === daysInMonth ? n - 2 : n + 1;
  return n;
}

/**
 * The shortest time between two fires of `fields` over a year from a fixed date (deterministic), in
 * minutes; null when it fires at most once in that year.
 */
export function shortestCronIntervalMinutes(fields: CronFields, timeZone: string): number | null {
  const start = Date.UTC(2027, 0, 1);
  const end = start + 366 * 1440 * MINUTE;
  let shortest: number | null = null;
  let previous = nextFireAfter(fields, timeZone, start - MINUTE);
  for (let count = 0; previous !== null && previous < end && count < 5000; count += 1) {
    const next = nextFireAfter(fields, timeZone, previous);
    if (next === null) break;
    const gap = (next - previous) / MINUTE;
    if (shortest === null || gap < shortest) shortest = gap;
    if (shortest === 1) break;
    previous = next;
  }
  return shortest;
}
