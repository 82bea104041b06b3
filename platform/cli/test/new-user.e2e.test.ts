import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { JobRun } from '../../../contracts/job-runs.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { groupAlive } from '../../local/supervisor.ts';
import { CLI_NAME, PACKAGE_ROOT } from '../package-root.ts';

/**
 * The new user's path (issue 21), as a team takes it: `npm pack` of this package, installed into a fresh
 * repository under the system's temporary folder (outside this checkout) that holds only a Node service
 * and a Python service, each with its Dockerfile; then `init`, the team's own scheduled jobs added to the
 * declaration (a Python report, and a run of it that fails: issue 22), `synth`, `preflight`, `start`
 * (both services answer through the local ALB, their logs are scored; `--now` runs both jobs, each run
 * scored and listed with its status), `deploy --local` of the Python service, and Ctrl-C with nothing
 * left running. Each step's time is printed as one JSON line (`new-user-path {…}`).
 *
 * It installs the package's dependencies (about 600 MB from npm's cache) and synthesises, so it runs only
 * when asked: `NEW_USER_E2E=1 flock /tmp/heavy.lock node scripts/run-tests.mjs platform/cli/test/new-user.e2e.test.ts`.
 */

const enabled = process.env.NEW_USER_E2E === '1';
const TEAM_FIXTURE = fileURLToPath(new URL('../../local/test/fixtures/team', import.meta.url));

const times: Record<string, number> = {};

function timed<T>(step: string, run: () => T): T {
  const started = performance.now();
  const result = run();
  times[step] = Math.round(performance.now() - started);
  return result;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs: number) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env },
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('the new user’s path: pack, install, init, synth, preflight, start, deploy --local, Ctrl-C', {
  skip: !enabled && 'set NEW_USER_E2E=1 (installs ~600 MB)',
}, () => {
  let repo = '';
  let work = '';
  let start: ChildProcess | undefined;
  let output = '';

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'new-user-'));
    repo = join(work, 'shop');
    mkdirSync(repo);
    // Only the team's own services: a Node one and a Python one, each with its Dockerfile.
    writeFileSync(
      join(repo, 'package.json'),
      `${JSON.stringify({ name: 'shop', version: '1.0.0' }, null, 2)}\n`,
    );
    mkdirSync(join(repo, 'api'));
    cpSync(join(TEAM_FIXTURE, 'orders/server.mjs'), join(repo, 'api/server.mjs'));
    writeFileSync(
      join(repo, 'api/Dockerfile'),
      'FROM node:22-slim\nWORKDIR /srv\nCOPY server.mjs .\nEXPOSE 3000\nCMD ["node", "server.mjs"]\n',
    );
    mkdirSync(join(repo, 'pyweb'));
    cpSync(join(TEAM_FIXTURE, 'pyapi/app.py'), join(repo, 'pyweb/app.py'));
    writeFileSync(
      join(repo, 'pyweb/Dockerfile'),
      'FROM python:3.11-slim\nENV PYTHONUNBUFFERED=1\nWORKDIR /app\nCOPY . /app\nEXPOSE 8000\nCMD ["python3", "app.py"]\n',
    );
  });

  after(async () => {
    if (start && start.exitCode === null && start.pid) process.kill(-start.pid, 'SIGKILL');
    rmSync(work, { recursive: true, force: true });
    console.log(`new-user-path ${JSON.stringify(times)}`);
  });

  it('packs the package and installs the tarball into the team repository', () => {
    const packed = run('npm', ['pack', '--pack-destination', work], PACKAGE_ROOT, 120_000);
    assert.equal(packed.code, 0, packed.err);
    const tarball = join(work, packed.out.trim().split('\n').at(-1)!);
    const installed = timed('installMs', () =>
      run(
        'npm',
        ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save-dev', tarball],
        repo,
        900_000,
      ),
    );
    assert.equal(installed.code, 0, installed.err);
    const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    assert.ok(manifest.devDependencies['ecs-anomaly-platform'], 'saved as a devDependency');
  });

  const cli = join('node_modules', '.bin', CLI_NAME);

  it('init proposes both Dockerfiles as web services', () => {
    const init = timed('initMs', () => run(cli, ['init'], repo, 60_000));
    assert.equal(init.code, 0, init.err);
    assert.match(init.out, /web service api from api\/Dockerfile, port 3000 at \/\*/);
    assert.match(init.out, /web service pyweb from pyweb\/Dockerfile, port 8000 at \/pyweb\/\*/);
  });

  it('the team adds its own scheduled jobs to the declaration: a Python report, and a run of it that fails', () => {
    // After init, as a team would: a job folder init never saw, and two constructs in the declaration.
    mkdirSync(join(repo, 'reports'));
    for (const file of ['report.py', 'Dockerfile'])
      cpSync(join(TEAM_FIXTURE, 'report', file), join(repo, 'reports', file));
    const declaration = join(repo, 'config/declaration.ts');
    const text = readFileSync(declaration, 'utf8');
    assert.match(text, /^import \{ App, /m);
    writeFileSync(
      declaration,
      text
        .replace(/^import \{ App, /m, 'import { App, Schedule, ScheduledJob, ')
        .replace(
          /^export default app;$/m,
          [
            "const report = Image.fromDockerfile('reports/Dockerfile');",
            "new ScheduledJob(platform, 'report', { image: report, schedule: Schedule.cron('0 3 * * ? *'), timeoutSeconds: 600 });",
            "new ScheduledJob(platform, 'sync', { image: report, schedule: Schedule.cron('0 4 * * ? *'), timeoutSeconds: 600, environment: { REPORT_FAIL: '1' } });",
            '',
            'export default app;',
          ].join('\n'),
        ),
    );
  });

  it('synth and preflight pass on the declaration with its jobs', () => {
    const synth = timed('synthMs', () => run(cli, ['synth'], repo, 600_000));
    assert.equal(synth.code, 0, `${synth.out}\n${synth.err}`);
    assert.match(synth.out, /^synth: shop-\w+, shop-platform → .*cdk\.out \(0 unacknowledged findings\)$/m);
    const preflight = timed('preflightMs', () => run(cli, ['preflight'], repo, 300_000));
    assert.equal(preflight.code, 0, `${preflight.out}\n${preflight.err}`);
  });

  it('start runs both services, each answering through the local ALB, their logs scored; Ctrl-C leaves nothing', async () => {
    const started = performance.now();
    start = spawn(cli, ['start', '--now', 'report', '--now', 'sync'], {
      cwd: repo,
      detached: true,
      env: { ...process.env, WEB_PORT: '0', API_PORT: '0', MODEL_PORT: '0', NO_COLOR: '1' },
    });
    start.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    start.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const web = await waitFor('the ready line', 90_000, () => /^ready web=(\S+)\//m.exec(output)?.[1]);
    times.startToReadyMs = Math.round(performance.now() - started);
    assert.match(
      output,
      /api +\| \[local\] runner: the Dockerfile's own command on the host, in its build context api\/: node server\.mjs/,
    );
    assert.match(
      output,
      /pyweb +\| \[local\] runner: the Dockerfile's own command on the host, in its build context pyweb\/: python3 app\.py/,
    );

    assert.match(
      output,
      /report +\| \[local\] runner: the Dockerfile's own command on the host, in its build context reports\/: python3 report\.py/,
    );

    const node = (await (await fetch(`${web}/anything`)).json()) as { service: string };
    assert.equal(node.service, 'orders'); // the fixture server names itself so
    const asked = performance.now();
    const python = (await (await fetch(`${web}/pyweb/hello`)).json()) as { service: string; cwd: string };
    assert.equal(python.service, 'pyapi');
    assert.equal(python.cwd, join(repo, 'pyweb'));

    const state = () => JSON.parse(readFileSync(join(repo, '.local/runtime.json'), 'utf8'));
    const sidecarPort = (label: string) =>
      state().processes.find((p: { label: string }) => p.label === label).port as number;
    const scored = async (label: string) => {
      const metrics = await (await fetch(`http://127.0.0.1:${sidecarPort(label)}/metrics`)).text();
      return Number(/^sidecar_records_scored_total (\d+)/m.exec(metrics)?.[1] ?? 0);
    };
    await waitFor(
      "the Python service's first scored line",
      30_000,
      async () => (await scored('pyweb/sidecar')) > 0,
    );
    times.firstScoredPythonLineMs = Math.round(performance.now() - asked);
    await waitFor("the Node service's scored lines", 30_000, async () => (await scored('api/sidecar')) > 0);

    // A release of the Python service, rehearsed against the running platform, gate and all.
    const deployed = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const started = performance.now();
      const child = spawn(cli, ['deploy', '--local', '--service', 'pyweb'], {
        cwd: repo,
        env: { ...process.env },
      });
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        text += c.toString();
      });
      child.once('exit', (code) => {
        times.deployLocalPythonMs = Math.round(performance.now() - started);
        resolve({ code, out: text });
      });
    });
    assert.equal(deployed.code, 0, deployed.out);
    assert.match(deployed.out, /pyweb: rollout COMPLETED in .*; pyweb:2 serves all traffic, pyweb:1 stopped/);

    // Both runs of the team's job, scored by their own sidecars and listed where the console reads them.
    const jobsFile = join(repo, '.local/jobs.json');
    const finished = (job: string) => {
      if (!existsSync(jobsFile)) return undefined;
      const runs = (JSON.parse(readFileSync(jobsFile, 'utf8')) as { runs: JobRun[] }).runs;
      return runs.find((r) => r.job === job && r.status !== 'running');
    };
    const report = await waitFor('the report run listed as ended', 60_000, () => finished('report'));
    times.reportRunMs = report.durationMs ?? -1;
    assert.equal(report.status, 'succeeded', JSON.stringify(report));
    assert.equal(report.exitCode, 0);
    assert.equal(report.trigger, 'now');
    assert.ok(report.lines && report.lines.received >= 6 && report.lines.scored >= 6, JSON.stringify(report));
    const sync = await waitFor('the sync run listed as ended', 60_000, () => finished('sync'));
    assert.equal(sync.status, 'failed', JSON.stringify(sync));
    assert.equal(sync.exitCode, 1);
    // Its traceback is scored too (joined into one event by the sidecar).
    assert.ok(sync.lines && sync.lines.received >= 5 && sync.lines.scored >= 1, JSON.stringify(sync));
    assert.match(output, /^sync#1 +\| ConnectionRefusedError: connection to the warehouse refused/m);
    assert.match(
      output,
      /^local \| report run 1: succeeded \(exit 0, \d+ ms, \d+ lines scored, \d+ anomalous\)$/m,
    );
    assert.match(
      output,
      /^local \| sync run 1: failed \(exit 1, \d+ ms, \d+ lines scored, \d+ anomalous\)$/m,
    );

    const groups = state().processes.flatMap((p: { processGroups: number[] }) => p.processGroups) as number[];
    assert.ok(groups.length >= 6, `groups: ${groups}`);
    const exited = new Promise<number | null>((resolve) => start!.once('exit', (code) => resolve(code)));
    process.kill(start.pid!, 'SIGINT');
    assert.equal(await exited, 0, output.slice(-2000));
    for (const group of groups)
      assert.equal(groupAlive(group), false, `process group ${group} still running`);
  });
});
