import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  App,
  Image,
  InternalService,
  ModelEndpoint,
  Platform,
  Schedule,
  ScheduledJob,
  type ScheduledJobProps,
  WebService,
} from '../index.ts';
import { nextFireAfter, parseCron, shortestCronIntervalMinutes } from '../lib/cron.ts';

const image = (name: string) => Image.fromDockerfile(`${name}/Dockerfile`, { entry: `${name}/main.ts` });

function shop() {
  const app = new App();
  const platform = new Platform(app, 'shop', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  new ModelEndpoint(platform, 'log-anomaly', {
    image: Image.fromDockerfile('Dockerfile.model', { entry: 'model/serve/main.ts' }),
    artifactDir: 'model/artifacts/default',
  });
  const orders = new InternalService(platform, 'orders', { image: image('orders'), port: 3000 });
  new WebService(platform, 'storefront', { image: image('storefront'), port: 8000 });
  return { app, platform, orders };
}

function refusal(props: Partial<ScheduledJobProps>): string {
  const { platform } = shop();
  try {
    new ScheduledJob(platform, 'report', {
      image: image('report'),
      schedule: Schedule.cron('0 3 * * ? *'),
      ...props,
    });
  } catch (error) {
    return (error as Error).message;
  }
  return assert.fail('expected the job to be refused');
}

const at = (iso: string) => Date.parse(iso);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

describe('EventBridge cron expressions', () => {
  it('fires a daily cron at its wall-clock time in the declared zone, daylight saving included', () => {
    const daily = parseCron('0 3 * * ? *');
    assert.equal(iso(nextFireAfter(daily, 'UTC', at('2027-01-01T00:00:00Z'))), '2027-01-01T03:00:00.000Z');
    assert.equal(
      iso(nextFireAfter(daily, 'Europe/Paris', at('2027-01-01T00:00:00Z'))),
      '2027-01-01T02:00:00.000Z',
    );
    assert.equal(
      iso(nextFireAfter(daily, 'Europe/Paris', at('2027-07-01T00:00:00Z'))),
      '2027-07-01T01:00:00.000Z',
    );
  });

  it('counts days of the week 1-7 from Sunday, with names, #, L and W as EventBridge does', () => {
    // 2027-01-01 is a Friday.
    const weekdays = parseCron('30 9 ? * MON-FRI *');
    assert.equal(iso(nextFireAfter(weekdays, 'UTC', at('2027-01-01T10:00:00Z'))), '2027-01-04T09:30:00.000Z');
    const sunday = parseCron('0 0 ? * 1 *');
    assert.equal(iso(nextFireAfter(sunday, 'UTC', at('2027-01-01T00:00:00Z'))), '2027-01-03T00:00:00.000Z');
    const thirdFriday = parseCron('0 10 ? * 6#3 *');
    assert.equal(
      iso(nextFireAfter(thirdFriday, 'UTC', at('2027-01-01T00:00:00Z'))),
      '2027-01-15T10:00:00.000Z',
    );
    const lastDay = parseCron('0 12 L * ? *');
    assert.equal(iso(nextFireAfter(lastDay, 'UTC', at('2027-02-01T00:00:00Z'))), '2027-02-28T12:00:00.000Z');
    const lastWeekday = parseCron('0 12 LW * ? *');
    assert.equal(
      iso(nextFireAfter(lastWeekday, 'UTC', at('2027-10-01T00:00:00Z'))),
      '2027-10-29T12:00:00.000Z',
    );
    const everyFive = parseCron('0/5 * * * ? *');
    assert.equal(
      iso(nextFireAfter(everyFive, 'UTC', at('2027-01-01T00:07:10Z'))),
      '2027-01-01T00:10:00.000Z',
    );
    assert.equal(nextFireAfter(parseCron('0 0 1 1 ? 2020'), 'UTC', at('2027-01-01T00:00:00Z')), null);
  });

  it('measures the shortest time between two fires', () => {
    assert.equal(shortestCronIntervalMinutes(parseCron('0/15 * * * ? *'), 'UTC'), 15);
    assert.equal(shortestCronIntervalMinutes(parseCron('0 3 * * ? *'), 'UTC'), 1440);
    assert.equal(shortestCronIntervalMinutes(parseCron('0 9,17 ? * MON-FRI *'), 'UTC'), 480);
  });
});

describe('ScheduledJob', () => {
  it('synthesises a job with its expression, parsed fields and defaults', () => {
    const { app, platform, orders } = shop();
    new ScheduledJob(platform, 'report', {
      image: image('report'),
      schedule: Schedule.cron('0 3 * * ? *'),
      timeZone: 'Europe/Paris',
      talksTo: [orders],
    });
    new ScheduledJob(platform, 'sweep', {
      image: image('sweep'),
      schedule: Schedule.rate(15, 'minutes'),
      timeoutSeconds: 600,
    });
    const manifest = app.synth();
    const [report, sweep] = manifest.jobs;
    assert.equal(report?.schedule.expression, 'cron(0 3 * * ? *)');
    assert.deepEqual(report?.schedule.cron?.hours, [3]);
    assert.equal(report?.schedule.everyMinutes, null);
    assert.deepEqual(
      {
        timeZone: report?.timeZone,
        timeout: report?.timeoutSeconds,
        retries: report?.retries,
        overlap: report?.allowOverlap,
      },
      { timeZone: 'Europe/Paris', timeout: 3600, retries: 2, overlap: false },
    );
    assert.equal(sweep?.schedule.expression, 'rate(15 minutes)');
    assert.equal(sweep?.schedule.everyMinutes, 15);
    assert.deepEqual(manifest.services.find((s) => s.name === 'orders')?.reachableFrom, ['report']);
    assert.equal(Schedule.expression('rate(1 hour)').spec.kind, 'rate');
  });

  it('refuses an invalid schedule, naming what is wrong', () => {
    assert.equal(
      refusal({ schedule: Schedule.cron('0 3 * * *') }),
      "shop/report: schedule ('cron(0 3 * * *)') has 5 fields where EventBridge takes 6 (minutes hours day-of-month month day-of-week year). Fix: write it as EventBridge does, e.g. Schedule.cron('0 3 * * ? *') (03:00 daily) or Schedule.rate(15, 'minutes').",
    );
    assert.equal(
      refusal({ schedule: Schedule.cron('0 3 * * MON *') }),
      "shop/report: schedule ('cron(0 3 * * MON *)') must have ? in exactly one of day-of-month and day-of-week (EventBridge cannot take both). Fix: write it as EventBridge does, e.g. Schedule.cron('0 3 * * ? *') (03:00 daily) or Schedule.rate(15, 'minutes').",
    );
    assert.equal(
      refusal({ schedule: Schedule.cron('0 25 * * ? *') }),
      "shop/report: schedule ('cron(0 25 * * ? *)') has '25' in the hours field, outside 0-23. Fix: write it as EventBridge does, e.g. Schedule.cron('0 3 * * ? *') (03:00 daily) or Schedule.rate(15, 'minutes').",
    );
    assert.equal(
      refusal({ schedule: Schedule.rate(0, 'minutes') }),
      "shop/report: schedule ('rate(0 minutes)') must have a value of 1 or more. Fix: write it as EventBridge does, e.g. Schedule.cron('0 3 * * ? *') (03:00 daily) or Schedule.rate(15, 'minutes').",
    );
    assert.equal(
      refusal({ timeZone: 'Mars/Olympus' }),
      "shop/report: timeZone ('Mars/Olympus') is not an IANA time zone. Fix: use a name such as 'Europe/Paris' or 'UTC'.",
    );
  });

  it('refuses a timeout that would let runs overlap, unless overlap is allowed', () => {
    assert.equal(
      refusal({ schedule: Schedule.rate(1, 'hour'), timeoutSeconds: 3600 }),
      'shop/report: timeoutSeconds (3600) must be ≤ 3540 so runs cannot overlap: rate(1 hour) starts one every 3600 s at the closest, and a retried start may be 60 s late. Fix: lower timeoutSeconds to 3540 or less, or set allowOverlap: true.',
    );
    const { platform } = shop();
    const job = new ScheduledJob(platform, 'report', {
      image: image('report'),
      schedule: Schedule.rate(1, 'hour'),
      timeoutSeconds: 7200,
      allowOverlap: true,
    });
    assert.equal(job.timeoutSeconds, 7200);
    const noRetry = new ScheduledJob(platform, 'tidy', {
      image: image('tidy'),
      schedule: Schedule.rate(1, 'hour'),
      timeoutSeconds: 3600,
      retries: 0,
    });
    assert.equal(noRetry.retries, 0);
  });
});
