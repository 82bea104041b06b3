import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REGISTRY } from '../../deploy/test/fixtures.ts';
import { runCli } from '../cli.ts';
import { workflowCommand } from '../commands/workflow.ts';
import type { DeclaredPlatform } from '../declaration.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { imageBuilds } from '../image-builds.ts';
import { PACKAGE_NAME, PACKAGE_ROOT } from '../package-root.ts';
import { assertOneLineFix, DECLARATION, teamDelivery } from './team-delivery.ts';
import { cliIn, type TeamRepository } from './team-repository.ts';

/**
 * `images` for a team's repository (orders in Node, pyapi and the mailer worker in Python, the nightly
 * job): exactly the declaration's images, from the team's repository and the package's, tagged with the
 * commit; the dry run prints the exact commands; bad input is one line with the fix.
 */

let repo: TeamRepository;
let file: string;
let declared: DeclaredPlatform;

before(async () => {
  ({ repo, file, declared } = await teamDelivery());
});
after(() => repo.remove());

describe('images: exactly the declaration’s images, tagged with the commit', () => {
  test('--dry-run --push prints the build and push of orders, pyapi, nightly (the repository’s) and the sidecar and log router (the package’s)', async () => {
    const { code, out, err } = await cliIn([
      'images',
      '--declaration',
      file,
      '--dry-run',
      '--push',
      '--engine',
      'docker',
      '--registry',
      REGISTRY,
      '--tag',
      'abc123',
    ]);
    assert.equal(code, EXIT_CODES.ok, err);
    const ref = (image: string) => `${REGISTRY}/acme/${image}:abc123`;
    const at = (dir: string, path: string) => join(dir, path);
    const build = (image: string, dir: string, dockerfile: string, context: string) => [
      `docker build --file ${at(dir, dockerfile)} --tag ${ref(image)} ${at(dir, context)}`,
      `docker push ${ref(image)}`,
    ];
    assert.deepEqual(
      out.split('\n').sort(),
      [
        ...build('orders', repo.root, 'orders/Dockerfile', 'orders'),
        ...build('pyapi', repo.root, 'pyapi/Dockerfile', 'pyapi'),
        ...build('nightly', repo.root, 'nightly/Dockerfile', 'nightly'),
        ...build('mailer', repo.root, 'mailer/Dockerfile', 'mailer'),
        ...build('sidecar', PACKAGE_ROOT, 'Dockerfile.sidecar', '.'),
        ...build('log-router', PACKAGE_ROOT, 'services/anomaly-sidecar/fluent-bit/Dockerfile', '.'),
      ].sort(),
    );
  });

  test('a team declaring the operations console builds its web server and API from the package (Dockerfile.frontend, Dockerfile.backend), not from its repository', async (t) => {
    const withConsole = repo.write(
      'config/with-console.ts',
      DECLARATION.replace(/ } from '/, ", OperationsConsole } from '").replace(
        'export default app;',
        "new OperationsConsole(platform, 'console', { path: '/console' });\nexport default app;",
      ),
    );
    t.after(() => rmSync(withConsole));
    const { code, out, err } = await cliIn([
      'images',
      '--declaration',
      withConsole,
      '--dry-run',
      '--engine',
      'buildah',
      '--tag',
      't1',
      '--image',
      'console',
      '--image',
      'console-api',
    ]);
    assert.equal(code, EXIT_CODES.ok, err);
    const build = (image: string, dockerfile: string) =>
      `buildah bud --isolation chroot --file ${join(PACKAGE_ROOT, dockerfile)} --tag acme/${image}:t1 ${join(PACKAGE_ROOT, '.')}`;
    assert.deepEqual(
      out.split('\n').sort(),
      [build('console', 'Dockerfile.frontend'), build('console-api', 'Dockerfile.backend')].sort(),
    );
  });

  test('--image picks one; buildah (no daemon) is run the way this machine builds', async () => {
    const { code, out, err } = await cliIn([
      'images',
      '--declaration',
      file,
      '--dry-run',
      '--engine',
      'buildah',
      '--tag',
      't1',
      '--image',
      'pyapi',
    ]);
    assert.equal(code, EXIT_CODES.ok, err);
    assert.equal(
      out,
      `buildah bud --isolation chroot --file ${repo.root}/pyapi/Dockerfile --tag acme/pyapi:t1 ${repo.root}/pyapi`,
    );
  });

  test('without --dry-run it runs each command in the repository, and stops at the first that fails (exit 1, naming it)', async (t) => {
    const bin = repo.write(
      'stub-bin/docker',
      '#!/bin/sh\necho "$PWD $*" >> "$CALLS"\ncase "$*" in *acme/orders*) exit 3 ;; esac\n',
    );
    chmodSync(bin, 0o755);
    const calls = join(repo.root, 'calls.log');
    t.after(() => rmSync(calls, { force: true }));
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      [
        'images',
        '--declaration',
        file,
        '--engine',
        'docker',
        '--tag',
        't2',
        '--image',
        'orders',
        '--image',
        'pyapi',
        '--image',
        'nightly',
      ],
      {
        env: { PATH: `${dirname(bin)}:/usr/bin:/bin`, CALLS: calls },
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      },
    );
    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), [
      // The wiring's build order: pyapi (orders' callee) first; orders fails, nightly is never built.
      `${repo.root} build --file ${repo.root}/pyapi/Dockerfile --tag acme/pyapi:t2 ${repo.root}/pyapi`,
      `${repo.root} build --file ${repo.root}/orders/Dockerfile --tag acme/orders:t2 ${repo.root}/orders`,
    ]);
    assert.deepEqual(err, [
      `images: failed (exit 3): docker build --file ${repo.root}/orders/Dockerfile --tag acme/orders:t2 ${repo.root}/orders`,
    ]);
  });

  test('bad input is one line with the fix, exit 2: an --image the declaration does not build, an unknown --env, --push without a registry', async () => {
    for (const [args, pattern] of [
      [
        ['--image', 'frontend'],
        /^images: --image 'frontend' is not an image of the declaration \(images: .*orders.*\)\. Fix: /,
      ],
      [['--env', 'staging'], /^acme: environment \('staging'\) is not declared\. Fix: /],
      [['--push'], /^images: --push needs the registry\. Fix: pass --registry HOST/],
    ] as const) {
      const { code, out, err } = await cliIn(['images', '--declaration', file, '--tag', 't', ...args]);
      assert.equal(code, EXIT_CODES.usage, `${args.join(' ')}: ${err}`);
      assert.equal(out, '');
      assertOneLineFix(err);
      assert.match(err, pattern);
    }
  });
});

/**
 * A team's checkout elsewhere, holding `package.json` (with `dependencies`) and, when `installed`, the
 * package as `npm install` of its tarball leaves it: a folder of its own under `node_modules`, not the
 * copy the CLI runs from.
 */
function checkout(options: { readonly dependencies: Record<string, string>; readonly installed: boolean }) {
  const root = mkdtempSync(join(tmpdir(), 'team-checkout-'));
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'team', devDependencies: options.dependencies }),
  );
  if (options.installed) {
    mkdirSync(join(root, 'node_modules', PACKAGE_NAME), { recursive: true });
    writeFileSync(
      join(root, 'node_modules', PACKAGE_NAME, 'package.json'),
      JSON.stringify({ name: PACKAGE_NAME }),
    );
  }
  return root;
}

describe('where each image builds from: the team’s from its repository, the package’s from the package it installs', () => {
  test('a checkout whose installed package is not the copy the CLI runs from: the package’s images build from node_modules, in CI and here', (t) => {
    const root = checkout({ dependencies: { [PACKAGE_NAME]: '^1.0.0' }, installed: true });
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const elsewhere = { ...declared, root };
    const installed = `node_modules/${PACKAGE_NAME}`;
    const byName = (form: 'absolute' | 'repository') =>
      Object.fromEntries(imageBuilds(elsewhere, form).map((b) => [b.name, [b.dockerfile, b.context]]));
    // The workflow runs in a checkout of the repository, where `npm ci` installs the package there.
    assert.deepEqual(byName('repository'), {
      'log-router': [`${installed}/services/anomaly-sidecar/fluent-bit/Dockerfile`, installed],
      mailer: ['mailer/Dockerfile', 'mailer'],
      nightly: ['nightly/Dockerfile', 'nightly'],
      orders: ['orders/Dockerfile', 'orders'],
      pyapi: ['pyapi/Dockerfile', 'pyapi'],
      sidecar: [`${installed}/Dockerfile.sidecar`, installed],
    });
    const local = byName('absolute');
    assert.deepEqual(local.sidecar, [join(root, installed, 'Dockerfile.sidecar'), join(root, installed)]);
    assert.deepEqual(local.orders, [join(root, 'orders/Dockerfile'), join(root, 'orders')]);
  });

  test('a repository that does not depend on the package: the workflow (whose npm ci would not install it) is refused, one line with the fix, exit 2', async (t) => {
    const root = checkout({ dependencies: {}, installed: false });
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const out: string[] = [];
    const err: string[] = [];
    const code = await workflowCommand.run({
      args: ['--stdout'],
      env: {},
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      declared: { ...declared, root },
    });
    assert.equal(code, EXIT_CODES.usage);
    assert.deepEqual(out, []);
    assertOneLineFix(err.join('\n'));
    assert.equal(
      err[0],
      `workflow: the package's own images (log-router, sidecar) build from node_modules/${PACKAGE_NAME}, which npm ci installs only for a dependency, and ${root}/package.json does not name ${PACKAGE_NAME}. Fix: npm install --save-dev ${PACKAGE_NAME}`,
    );
    // Here too (`images`): from the package the repository installs, which it does not.
    assert.throws(() => imageBuilds({ ...declared, root }, 'absolute'), {
      name: 'UsageError',
      message: `the package's own images (log-router, sidecar) build from the package the repository installs, and ${join(root, 'node_modules', PACKAGE_NAME)} does not exist. Fix: npm install --save-dev ${PACKAGE_NAME}`,
    });
  });
});
