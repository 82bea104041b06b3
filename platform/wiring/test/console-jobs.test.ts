import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declarePlatform as declareThisRepository } from '../../../config/declaration.ts';
import { JobDirectorySchema } from '../../../contracts/job-runs.ts';
import { declarePlatform as declareTeam } from '../../local/test/fixtures/team-console.declaration.ts';
import { wirePlatform } from '../index.ts';

/**
 * The console's API is told the platform's jobs (`JOBS`) as the job wiring decides them: the family whose
 * tasks are the runs, the container whose exit code is the outcome, the deadline's exit code.
 */

const appEnvironment = (wiring: ReturnType<typeof wirePlatform>, service: string) =>
  wiring.tasks.find((t) => t.service === service)!.containers.find((c) => c.role === 'app')!.environment;

describe("the console's job directory", () => {
  it('names each job with the family, app container and timeout exit code its own wiring has', () => {
    const wiring = wirePlatform(declareTeam().synth());
    const source = appEnvironment(wiring, 'console-api').JOBS;
    assert.equal(source?.kind, 'literal');
    const jobs = JobDirectorySchema.parse(JSON.parse(source.kind === 'literal' ? source.value : ''));
    assert.deepEqual(
      jobs,
      wiring.jobs.map((j) => ({
        name: j.job,
        family: j.family,
        appContainer: j.failedRun.appContainer,
        timeoutExitCode: j.failedRun.timeoutExitCode,
      })),
    );
    assert.deepEqual(
      jobs.map((j) => j.family),
      ['shop-nightly-report', 'shop-warehouse-sync'],
    );
    // Only the console's API reads the platform: the team's services are told nothing of it.
    assert.equal(appEnvironment(wiring, 'orders').JOBS, undefined);
  });

  it('is not set where the platform declares no job (this repository: its templates unchanged)', () => {
    const wiring = wirePlatform(declareThisRepository().synth());
    assert.equal(appEnvironment(wiring, 'backend').JOBS, undefined);
  });
});
