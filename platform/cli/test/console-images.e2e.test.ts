import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI_NAME, PACKAGE_NAME, PACKAGE_ROOT } from '../package-root.ts';

/**
 * The operations console's two images built as a team builds them: `npm pack` of this package,
 * installed into a fresh repository under the system's temporary folder (`"type": "module"`, one web
 * service of its own and `new OperationsConsole(...)`), then `berth images --engine buildah` for the
 * console's web server and API, which build from `node_modules/<package>` (no lockfile there, the
 * package's shipped console assets). Each image must hold its server bundle (and the web server its
 * assets) and run as `node`.
 *
 * It installs the package's dependencies twice (the team's install, then each image's build stage)
 * and needs `node:24-bookworm-slim` in buildah's storage (a stand-in from scripts/images/standin-base.sh
 * here, where no registry is reachable), so it runs only when asked, as CI does after `images:verify`
 * has made that stand-in (`.ci/run`):
 * `CONSOLE_IMAGES_E2E=1 flock /tmp/heavy.lock node scripts/run-tests.mjs platform/cli/test/console-images.e2e.test.ts`.
 */

const enabled = process.env.CONSOLE_IMAGES_E2E === '1';
const BASE = 'docker.io/library/node:24-bookworm-slim';
const TAG = 'console-e2e';

function run(command: string, args: readonly string[], cwd: string, timeoutMs: number) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env },
  });
  return { code: result.status, out: result.stdout ?? '', err: result.stderr ?? '' };
}

/** The image's configured user and the files under `paths` in its root filesystem that exist. */
function inspectImage(image: string, paths: readonly string[]): { user: string; present: string[] } {
  const inspected = run('buildah', ['inspect', '--type', 'image', image], '/', 60_000);
  assert.equal(inspected.code, 0, inspected.err);
  const user = (JSON.parse(inspected.out) as { OCIv1: { config: { User?: string } } }).OCIv1.config.User;
  const ctr = run('buildah', ['from', '--pull=never', '--quiet', image], '/', 60_000).out.trim();
  try {
    const mnt = run('buildah', ['mount', ctr], '/', 60_000).out.trim();
    const present = paths.filter((p) => run('test', ['-s', join(mnt, p)], '/', 10_000).code === 0);
    return { user: user ?? '', present };
  } finally {
    run('buildah', ['rm', ctr], '/', 60_000);
  }
}

describe('the console’s images build from a team’s installed package (pack, install, berth images)', {
  skip: !enabled && 'set CONSOLE_IMAGES_E2E=1 (installs the package, builds two images with buildah)',
}, () => {
  let work = '';
  let repo = '';

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'console-images-'));
    repo = join(work, 'shop');
    mkdirSync(join(repo, 'config'), { recursive: true });
    mkdirSync(join(repo, 'web'));
    writeFileSync(
      join(repo, 'package.json'),
      `${JSON.stringify({ name: 'shop', version: '1.0.0', type: 'module' }, null, 2)}\n`,
    );
    writeFileSync(
      join(repo, 'web/Dockerfile'),
      'FROM node:24-bookworm-slim\nCOPY server.mjs .\nEXPOSE 3000\nCMD ["node", "server.mjs"]\n',
    );
    writeFileSync(
      join(repo, 'web/server.mjs'),
      "import { createServer } from 'node:http';\ncreateServer((q, s) => s.end('ok')).listen(3000);\n",
    );
    writeFileSync(
      join(repo, 'config/declaration.ts'),
      [
        `import { App, Image, OperationsConsole, Platform, WebService } from '${PACKAGE_NAME}';`,
        '',
        'const app = new App();',
        "const platform = new Platform(app, 'shop', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });",
        "new WebService(platform, 'web', {",
        "  image: Image.fromDockerfile('web/Dockerfile', { entry: 'web/server.mjs' }),",
        '  port: 3000,',
        '  anomaly: { enabled: false },',
        '});',
        "new OperationsConsole(platform, 'console', { path: '/console' });",
        'export default app;',
        '',
      ].join('\n'),
    );
  });

  after(() => {
    for (const image of ['console', 'console-api']) {
      spawnSync('buildah', ['rmi', `shop/${image}:${TAG}`], { stdio: 'ignore' });
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('packs the package and installs the tarball into the team repository', () => {
    const packed = run('npm', ['pack', '--pack-destination', work], PACKAGE_ROOT, 120_000);
    assert.equal(packed.code, 0, packed.err);
    const tarball = join(work, packed.out.trim().split('\n').at(-1)!);
    const installed = run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball],
      repo,
      900_000,
    );
    assert.equal(installed.code, 0, installed.err);
  });

  it('berth images builds the console’s web server and API from node_modules/<package>, each with its bundle, as `node`', () => {
    if (run('buildah', ['inspect', '--type', 'image', BASE], '/', 60_000).code !== 0) {
      const standin = run('bash', [join(PACKAGE_ROOT, 'scripts/images/standin-base.sh'), BASE], '/', 900_000);
      assert.equal(standin.code, 0, standin.err);
    }
    const cli = join('node_modules', '.bin', CLI_NAME);
    const args = [
      'images',
      '--engine',
      'buildah',
      '--tag',
      TAG,
      '--image',
      'console',
      '--image',
      'console-api',
    ];
    const built = run(cli, args, repo, 1_800_000);
    assert.equal(built.code, 0, `${built.out.slice(-3000)}\n${built.err.slice(-3000)}`);
    const installed = join(repo, 'node_modules', PACKAGE_NAME);
    for (const [image, dockerfile] of [
      ['console', 'Dockerfile.frontend'],
      ['console-api', 'Dockerfile.backend'],
    ]) {
      assert.match(
        built.out,
        new RegExp(
          `^buildah bud --isolation chroot --file ${installed}/${dockerfile} --tag shop/${image}:${TAG} ${installed}$`,
          'm',
        ),
      );
    }
    const web = inspectImage(`shop/console:${TAG}`, ['app/server.mjs', 'app/public/index.html']);
    assert.deepEqual(web, { user: 'node', present: ['app/server.mjs', 'app/public/index.html'] });
    const api = inspectImage(`shop/console-api:${TAG}`, ['app/server.mjs']);
    assert.deepEqual(api, { user: 'node', present: ['app/server.mjs'] });
  });
});
