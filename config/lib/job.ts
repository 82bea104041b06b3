import { Check, DISTINCT_ID_FIX, freeId } from './checks.ts';
import {
  type CronFields,
  isTimeZone,
  parseCron,
  parseRate,
  RATE_UNIT_MINUTES,
  type RateUnit,
  ScheduleSyntaxError,
  shortestCronIntervalMinutes,
} from './cron.ts';
import { refuseEnvironments } from './environments.ts';
import type { Platform } from './platform.ts';
import { type TaskProps, Workload } from './service.ts';
import { checkAnomaly, checkImageRun, checkServiceName, type ResolvedAnomaly } from './service-checks.ts';
import type { Image, ImageSpec } from './values.ts';

/** When a job runs, in manifest form: EventBridge Scheduler's own expressions. */
export type ScheduleSpec =
  | { readonly kind: 'cron'; readonly expression: string }
  | { readonly kind: 'rate'; readonly value: number; readonly unit: RateUnit };

/** When a {@link ScheduledJob} runs: EventBridge Scheduler's cron or rate expressions. */
export class Schedule {
  /**
   * EventBridge's six-field cron: minutes hours day-of-month month day-of-week year, `?` in one of
   * the two day fields, days of the week 1–7 from Sunday (or SUN–SAT).
   * @example Schedule.cron('0 3 * * ? *') // every day at 03:00 in the job's time zone
   */
  static cron(expression: string): Schedule {
    return new Schedule({ kind: 'cron', expression: expression.trim() });
  }

  /**
   * Every `value` minutes, hours or days, from when the schedule is created.
   * @example Schedule.rate(15, 'minutes')
   */
  static rate(value: number, unit: 'minute' | 'minutes' | 'hour' | 'hours' | 'day' | 'days'): Schedule {
    return new Schedule({ kind: 'rate', value, unit: unit.replace(/s$/, '') as RateUnit });
  }

  /**
   * A schedule written as EventBridge writes it.
   * @example Schedule.expression('cron(0 3 * * ? *)')
   */
  static expression(expression: string): Schedule {
    const match = /^(cron|rate)\((.*)\)$/.exec(expression.trim());
    if (match?.[1] === 'cron') return Schedule.cron(match[2]!);
    if (match?.[1] === 'rate') {
      const [value, unit] = match[2]!.trim().split(/\s+/);
      return new Schedule({ kind: 'rate', value: Number(value), unit: (unit ?? '') as RateUnit });
    }
    return new Schedule({ kind: 'cron', expression: `(not cron or rate) ${expression}` });
  }

  private constructor(readonly spec: ScheduleSpec) {}
}

/** EventBridge's text of a schedule: `cron(0 3 * * ? *)`, `rate(1 hour)`, `rate(5 minutes)`. */
export function scheduleExpression(schedule: ScheduleSpec): string {
  if (schedule.kind === 'cron') return `cron(${schedule.expression})`;
  return `rate(${schedule.value} ${schedule.value === 1 ? schedule.unit : `${schedule.unit}s`})`;
}

/** Props of a {@link ScheduledJob}. */
export interface ScheduledJobProps extends TaskProps {
  /** The image to run; its process runs to completion, and its exit code is the run's outcome. */
  readonly image: Image;
  /** When it runs. */
  readonly schedule: Schedule;
  /** IANA time zone the cron expression is read in (daylight saving included). @default 'UTC' */
  readonly timeZone?: string;
  /**
   * Longest a run may take; past it the run is stopped and counts as failed. @default 3600
   */
  readonly timeoutSeconds?: number;
  /**
   * Times EventBridge Scheduler retries starting a run that could not start (no capacity, throttling);
   * a run that started and failed is not re-run: it raises the failed-run alarm. @default 2
   */
  readonly retries?: number;
  /**
   * Whether a run may start while the previous one still runs. Scheduler cannot skip a run, so without
   * overlap the timeout must end a run before the next can start (checked at declaration).
   * @default false
   */
  readonly allowOverlap?: boolean;
}

/** A retried start may come this late (EventBridge Scheduler's smallest maximum event age). */
export const LATE_START_SECONDS = 60;

/**
 * A container run on a schedule to completion: EventBridge Scheduler starts it on ECS, its logs are
 * routed and scored like a service's, and each run's exit code, duration and anomalous lines are kept.
 *
 * @example
 * new ScheduledJob(platform, 'nightly-report', {
 *   image: Image.fromDockerfile('report/Dockerfile', { entry: 'report/main.ts' }),
 *   schedule: Schedule.cron('0 3 * * ? *'),
 *   timeZone: 'Europe/Paris',
 *   timeoutSeconds: 1800,
 * });
 */
export class ScheduledJob extends Workload {
  readonly kind = 'job' as const;
  readonly name: string;
  readonly image: ImageSpec;
  readonly schedule: ScheduleSpec;
  /** The cron expression's fields (null for a rate). */
  readonly cronFields: CronFields | null;
  readonly timeZone: string;
  readonly timeoutSeconds: number;
  readonly retries: number;
  readonly allowOverlap: boolean;
  readonly cpuUnits: number;
  readonly memoryMiB: number;
  readonly anomaly: ResolvedAnomaly;

  constructor(scope: Platform, id: string, props: ScheduledJobProps) {
    super(scope, freeId(scope, id, DISTINCT_ID_FIX));
    const check = new Check(this.node.path);
    refuseEnvironments(check, props, 'a scheduled job');
    this.name = checkServiceName(check, id);
    this.image = props.image.spec;
    checkImageRun(check, this.image, null);
    this.schedule = props.schedule.spec;
    this.timeZone = props.timeZone ?? 'UTC';
    if (!isTimeZone(this.timeZone)) {
      check.fail(
        'timeZone',
        this.timeZone,
        'is not an IANA time zone',
        "use a name such as 'Europe/Paris' or 'UTC'",
      );
    }
    this.cronFields = checkSchedule(check, this.schedule);
    this.timeoutSeconds = check.integer('timeoutSeconds', props.timeoutSeconds ?? 3600, 1, 86_400);
    this.retries = check.integer('retries', props.retries ?? 2, 0, 185);
    this.allowOverlap = props.allowOverlap ?? false;
    if (!this.allowOverlap) this.checkNoOverlap(check);
    this.cpuUnits = check.integer('cpuUnits', props.cpuUnits ?? 256, 128, 10240);
    this.memoryMiB = check.integer('memoryMiB', props.memoryMiB ?? 512, 128, 30720, 'MiB');
    this.declareCalls(check, props);
    this.anomaly = checkAnomaly(check, props.anomaly);
  }

  /**
   * Scheduler starts every run it is told to, so "no overlap" holds by construction: a run (plus a
   * retried start's lateness) ends before the next can begin.
   */
  private checkNoOverlap(check: Check): void {
    const intervalMinutes =
      this.schedule.kind === 'rate'
        ? this.schedule.value * RATE_UNIT_MINUTES[this.schedule.unit]
        : shortestCronIntervalMinutes(this.cronFields!, this.timeZone);
    if (intervalMinutes === null) return;
    const late = this.retries > 0 ? LATE_START_SECONDS : 0;
    const allowed = intervalMinutes * 60 - late;
    if (this.timeoutSeconds > allowed) {
      check.fail(
        'timeoutSeconds',
        this.timeoutSeconds,
        `must be ≤ ${allowed} so runs cannot overlap: ${scheduleExpression(this.schedule)} starts one every ${intervalMinutes * 60} s at the closest${late ? `, and a retried start may be ${late} s late` : ''}`,
        `lower timeoutSeconds to ${allowed} or less, or set allowOverlap: true`,
      );
    }
  }
}

/** The schedule as EventBridge Scheduler would take it; the cron's fields when it is one. */
function checkSchedule(check: Check, schedule: ScheduleSpec): CronFields | null {
  const text = scheduleExpression(schedule);
  try {
    if (schedule.kind === 'cron') return parseCron(schedule.expression);
    parseRate(`${schedule.value} ${schedule.value === 1 ? schedule.unit : `${schedule.unit}s`}`);
    if (!Number.isInteger(schedule.value) || !(schedule.unit in RATE_UNIT_MINUTES)) {
      throw new ScheduleSyntaxError('must be a whole number of minute(s), hour(s) or day(s)');
    }
    return null;
  } catch (error) {
    if (!(error instanceof ScheduleSyntaxError)) throw error;
    return check.fail(
      'schedule',
      text,
      error.message,
      "write it as EventBridge does, e.g. Schedule.cron('0 3 * * ? *') (03:00 daily) or Schedule.rate(15, 'minutes')",
    );
  }
}
