import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  App,
  Image,
  Platform,
  Schedule,
  ScheduledJob,
  WebService,
  WorkerService,
} from '../../../config/index.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { unfitImages } from '../image-fit.ts';
import { cliIn as cli, PACKAGE_NAME, type TeamRepository, teamRepository } from './team-repository.ts';

/**
 * Issue 21, item 4 and its error paths, from a team's repository: a registry image declared with
 * nothing that says it fits the platform's defaults is a warning at synth (exit 0) and a refusal at
 * preflight (exit 2), the same one line with the fix; a Python entry with no command and a fixed port
 * that is not the service's are one line with the fix, exit 2, before anything is rendered.
 */

/** One line, naming a fix, no stack trace. */
function assertOneLineFix(err: string): void {
  assert.equal(err.split('\n').length, 1, err);
  assert.match(err, /Fix: /);
  assert.doesNotMatch(err, /\n\s+at |\.ts:\d+/);
}

function declaration(image: string, port = 5678): string {
  return [
    `import { App, Image, Platform, WebService } from '${PACKAGE_NAME}';`,
    'const app = new App();',
    "const platform = new Platform(app, 'shop', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });",
    `new WebService(platform, 'echo', { image: ${image}, port: ${port}, anomaly: { enabled: false } });`,
    'export default app;',
    '',
  ].join('\n');
}

const UNFIT =
  "shop/echo: image 'localhost/team/echo:1' is a registry image that declares nothing of how it runs, so synth cannot know it fits the platform's defaults (read-only root filesystem, user 1000:1000, listening on PORT=5678). " +
  "Fix: declare what it needs, e.g. Image.fromRegistry('localhost/team/echo:1', { user: '1000:1000', port: 5678, writablePaths: ['/tmp'] }) (command, entrypoint, user, port, writablePaths).";

const repositories: TeamRepository[] = [];
after(() => {
  for (const r of repositories) r.remove();
});
function repositoryWith(text: string): string {
  const repo = teamRepository();
  repositories.push(repo);
  return repo.write('config/declaration.ts', text);
}

describe('a declared image fits the platform or says why not', () => {
  it('synth warns on stderr, one line naming the fix, and still synthesises (exit 0)', async () => {
    const file = repositoryWith(declaration("Image.fromRegistry('localhost/team/echo:1')"));
    const { code, out, err } = await cli(['synth', '--declaration', file]);
    assert.equal(code, EXIT_CODES.ok, err);
    assert.equal(err, `warning: ${UNFIT}`);
    assert.match(out, /^synth: /);
  });

  it('preflight refuses the same image with the same line, exit 2', async () => {
    const file = repositoryWith(declaration("Image.fromRegistry('localhost/team/echo:1')"));
    const { code, out, err } = await cli(['preflight', '--declaration', file]);
    assert.equal(code, EXIT_CODES.usage);
    assertOneLineFix(err);
    assert.equal(err, UNFIT);
    assert.equal(out, '');
  });

  it('neither warns nor refuses once the image declares how it runs', async () => {
    const file = repositoryWith(
      declaration("Image.fromRegistry('localhost/team/echo:1', { user: '65534', writablePaths: ['/tmp'] })"),
    );
    const { code, err } = await cli(['preflight', '--declaration', file]);
    assert.notEqual(code, EXIT_CODES.usage, err);
    assert.doesNotMatch(err, /declares nothing of how it runs/);
  });

  it('refuses a Python entry with no command, one line with the fix, exit 2', async () => {
    const file = repositoryWith(declaration("Image.fromDockerfile('Dockerfile', { entry: 'app.py' })", 8000));
    for (const command of ['synth', 'preflight', 'start']) {
      const { code, err } = await cli([command, '--declaration', file]);
      assert.equal(code, EXIT_CODES.usage, `${command}: ${err}`);
      assertOneLineFix(err);
      assert.match(err, /^shop\/echo: image\.entry \('app\.py'\) is not a TypeScript or JavaScript file/);
    }
  });

  it("refuses a fixed port that is not the service's, one line with the fix, exit 2", async () => {
    const file = repositoryWith(
      declaration("Image.fromRegistry('localhost/team/echo:1', { port: 5678 })", 8080),
    );
    for (const command of ['synth', 'preflight', 'start']) {
      const { code, err } = await cli([command, '--declaration', file]);
      assert.equal(code, EXIT_CODES.usage, `${command}: ${err}`);
      assertOneLineFix(err);
      assert.equal(
        err,
        "shop/echo: image port (5678) is the port the image listens on, but the service's port is 8080. Fix: set the service's port to 5678 (or drop the image's port if it reads PORT).",
      );
    }
  });

  it('reads the wiring: a web service names its port, a worker and a scheduled job (which listen on none) do not', () => {
    const app = new App();
    const platform = new Platform(app, 'shop', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
    const off = { anomaly: { enabled: false } };
    new WebService(platform, 'echo', { image: Image.fromRegistry('r/echo:1'), port: 5678, ...off });
    new WorkerService(platform, 'mailer', { image: Image.fromRegistry('r/mailer:1'), ...off });
    new ScheduledJob(platform, 'nightly', {
      image: Image.fromRegistry('r/nightly:1'),
      schedule: Schedule.cron('0 3 * * ? *'),
      ...off,
    });
    const lines = unfitImages(wirePlatform(app.synth()));
    assert.deepEqual(
      lines.map((l) => l.slice(0, l.indexOf(' is a registry image'))),
      ["shop/echo: image 'r/echo:1'", "shop/mailer: image 'r/mailer:1'", "shop/nightly: image 'r/nightly:1'"],
    );
    assert.match(lines[0]!, /\(read-only root filesystem, user 1000:1000, listening on PORT=5678\)/);
    assert.match(lines[0]!, /\{ user: '1000:1000', port: 5678, writablePaths: \['\/tmp'\] \}/);
    for (const line of lines.slice(1)) {
      assert.match(line, /\(read-only root filesystem, user 1000:1000\)\. Fix: /);
      assert.match(line, /\{ user: '1000:1000', writablePaths: \['\/tmp'\] \}/);
    }
  });
});
