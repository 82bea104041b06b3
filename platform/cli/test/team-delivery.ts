import assert from 'node:assert/strict';
import { type DeclaredPlatform, declarePlatformFrom } from '../declaration.ts';
import { PACKAGE_NAME, type TeamRepository, teamRepository } from './team-repository.ts';

/**
 * The delivery tests' team repository: services `orders` (Node, web) and `pyapi` (Python, internal),
 * a worker `mailer` (Python) and a scheduled job `nightly`, each with its Dockerfile, scored by the
 * model the package ships, delivered from GitHub (`delivery`).
 */

export const DECLARATION = [
  `import { App, Image, InternalService, ModelEndpoint, Platform, Schedule, ScheduledJob, WebService, WorkerService } from '${PACKAGE_NAME}';`,
  '',
  'const app = new App();',
  "const platform = new Platform(app, 'acme', {",
  "  capacity: { instanceTypes: ['t3.medium', 't3a.medium'] },",
  "  delivery: { githubRepository: 'team/shop' },",
  '});',
  "new ModelEndpoint(platform, 'log-anomaly');",
  "const pyapi = new InternalService(platform, 'pyapi', { image: Image.fromDockerfile('pyapi/Dockerfile'), port: 8000 });",
  "new WebService(platform, 'orders', {",
  "  image: Image.fromDockerfile('orders/Dockerfile', { entry: 'orders/server.mjs' }),",
  '  port: 3000,',
  '  talksTo: [pyapi],',
  '});',
  "new WorkerService(platform, 'mailer', { image: Image.fromDockerfile('mailer/Dockerfile'), talksTo: [pyapi] });",
  "new ScheduledJob(platform, 'nightly', {",
  "  image: Image.fromDockerfile('nightly/Dockerfile', { entry: 'nightly/main.mjs' }),",
  "  schedule: Schedule.cron('0 3 * * ? *'),",
  '});',
  'export default app;',
  '',
].join('\n');

export interface TeamDelivery {
  readonly repo: TeamRepository;
  /** The declaration file. */
  readonly file: string;
  /** The declaration as the CLI derives it (once). */
  readonly declared: DeclaredPlatform;
}

/** Writes the team's repository and loads its declaration through the CLI's one entry. */
export async function teamDelivery(): Promise<TeamDelivery> {
  const repo = teamRepository();
  const file = repo.write('config/declaration.ts', DECLARATION);
  repo.write(
    'orders/Dockerfile',
    'FROM node:20-slim\nCOPY server.mjs .\nEXPOSE 3000\nCMD ["node", "server.mjs"]\n',
  );
  repo.write('orders/server.mjs', "import { createServer } from 'node:http';\n");
  repo.write('pyapi/Dockerfile', 'FROM python:3.11-slim\nCOPY app.py .\nCMD ["python3", "app.py"]\n');
  repo.write('pyapi/app.py', 'print("hello")\n');
  repo.write('nightly/Dockerfile', 'FROM node:20-slim\nCOPY main.mjs .\nCMD ["node", "main.mjs"]\n');
  repo.write('nightly/main.mjs', 'console.log("report");\n');
  repo.write('mailer/Dockerfile', 'FROM python:3.11-slim\nCOPY worker.py .\nCMD ["python3", "worker.py"]\n');
  const loaded = await declarePlatformFrom(file);
  assert.ok('declared' in loaded, 'problem' in loaded ? loaded.problem : '');
  return { repo, file, declared: loaded.declared };
}

/** One line naming the fix, no stack trace. */
export function assertOneLineFix(err: string): void {
  assert.equal(err.split('\n').length, 1, err);
  assert.match(err, /Fix: /);
  assert.doesNotMatch(err, /\n\s+at /);
}
