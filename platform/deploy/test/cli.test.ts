import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { EXIT_CODES, formatDuration, parseDeployArgs, USAGE, UsageError } from '../args.ts';
import { resolveTargets } from '../targets.ts';
import {
  DescribeServicesCommand,
  DIGEST,
  ecsWorld,
  REGISTRY,
  SIDECAR_DIGEST,
  steadyService,
  tdArn,
} from './fixtures.ts';
import { cli, WIRING } from './run-cli.ts';

const BACKEND = `${REGISTRY}/acme/backend@${DIGEST}`;
const SIDECAR = `${REGISTRY}/acme/sidecar@${SIDECAR_DIGEST}`;

describe('usage errors: stderr, exit 2, no AWS client built', () => {
  const cases: [string, string[], string][] = [
    ['no command', [], 'a command is required: deploy, diff, status, rollback, wait, continue, abort, seed'],
    [
      'an unknown command',
      ['ship'],
      "unknown command 'ship'; commands: deploy, diff, status, rollback, wait, continue, abort, seed",
    ],
    ['the old command line (--cluster)', ['--cluster', 'acme'], "unknown option '--cluster'"],
    ['deploy without an image', ['deploy'], 'at least one --image NAME=REF is required'],
    ['an image without a reference', ['deploy', '--image', 'backend'], "--image 'backend' must be NAME=REF"],
    [
      'a digest that is not sha256',
      ['deploy', '--image', 'backend=repo/backend@md5:abc'],
      "--image 'backend=repo/backend@md5:abc': 'repo/backend@md5:abc' must be REPO:TAG or REPO@sha256:<64 lowercase hex digits>",
    ],
    [
      'the same image twice',
      ['deploy', '--image', 'backend=r/x:1', '--image', 'backend=r/x:2'],
      "--image 'backend=r/x:2': image 'backend' is given twice",
    ],
    [
      'an image the declaration does not run',
      ['deploy', '--image', 'api=r/x:1'],
      "--image 'api' is not an image of the declaration (images: log-router, backend, sidecar, frontend). Fix: name one of them (berth images --dry-run lists what each is built from)",
    ],
    [
      'a reference into another image’s repository',
      ['deploy', '--image', `backend=${REGISTRY}/acme/frontend@${DIGEST}`],
      `--image 'backend=${REGISTRY}/acme/frontend@${DIGEST}' points at the acme/frontend repository; did you mean --image frontend=…?`,
    ],
    [
      'an undeclared service',
      ['deploy', '--image', 'backend=r/x:1', '--service', 'payments'],
      "--service 'payments' is not declared (services: backend, frontend). Fix: name one of them",
    ],
    [
      'an image the selected service does not run',
      ['deploy', '--image', 'frontend=r/x:1', '--service', 'backend'],
      'no selected service runs frontend (services: backend)',
    ],
    ['an option another command owns', ['status', '--image', 'backend=r/x:1'], "'status' takes no --image"],
    [
      'wait without --until',
      ['wait'],
      `--until is required: stable, deployed or a stage (RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP)`,
    ],
    [
      'wait for an unknown state',
      ['wait', '--until', 'soon'],
      `--until 'soon' must be stable, deployed or a stage (RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP)`,
    ],
    [
      'a bad timeout',
      ['deploy', '--image', 'backend=r/x:1', '--timeout', '10 minutes'],
      "--timeout '10 minutes' must be a duration such as 900, 90s, 15m or 1h",
    ],
    ['a zero timeout', ['rollback', '--timeout', '0s'], "--timeout '0s' must be greater than zero"],
    [
      'a hammering poll interval',
      ['wait', '--until', 'stable', '--poll-interval', '200ms'],
      "--poll-interval '200ms' must be at least 1s",
    ],
    ['an unknown option', ['deploy', '--image', 'backend=r/x:1', '--force'], "unknown option '--force'"],
    // One way in: the entry (platform/cli) takes --env and derives the wiring for it; the core renders that wiring.
    [
      'an environment, which only the entry chooses',
      ['deploy', '--image', 'backend=r/x:1', '--env', 'production'],
      "unknown option '--env'",
    ],
    [
      'a stray argument',
      ['status', 'backend'],
      "unexpected argument 'backend'; every value belongs to an option",
    ],
    ['an option without its value', ['status', '--service'], "option '--service' needs a value"],
  ];
  for (const [name, argv, message] of cases) {
    test(name, async () => {
      const result = await cli(argv);
      assert.equal(result.code, EXIT_CODES.usage);
      // One line: the problem and its fix.
      const fix = /Fix: /.test(message) ? '' : '. Fix: correct it (--help lists the commands and options)';
      assert.deepEqual(result.err, [`deploy: ${message}${fix}`]);
      assert.deepEqual(result.out, []);
      assert.deepEqual(result.regions, [], 'no ECS client is built for a bad command line');
    });
  }

  test('--help prints the usage on stdout and exits 0', async () => {
    const result = await cli(['--help']);
    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(result.out, [USAGE]);
  });

  test('a declaration that does not synthesise: its message alone, exit 1', async () => {
    const result = await cli(['status'], () => {
      throw new Error('acme/backend: scaling.minTasks (0) must be ≥ 1. Fix: set minTasks to 1 or more.');
    });
    assert.equal(result.code, EXIT_CODES.failed);
    assert.deepEqual(result.err, [
      'deploy: cannot read the declaration: acme/backend: scaling.minTasks (0) must be ≥ 1. Fix: set minTasks to 1 or more.',
    ]);
  });
});

describe('parseDeployArgs and the wiring', () => {
  test('deploy: images in order, defaults applied', () => {
    assert.deepEqual(
      parseDeployArgs([
        'deploy',
        '--image',
        `backend=${BACKEND}`,
        '--image',
        `sidecar=${SIDECAR}`,
        '--region',
        'eu-west-1',
      ]),
      {
        kind: 'command',
        command: {
          name: 'deploy',
          services: [],
          region: 'eu-west-1',
          timeoutMs: 900_000,
          pollIntervalMs: 10_000,
          images: new Map([
            ['backend', BACKEND],
            ['sidecar', SIDECAR],
          ]),
          dryRun: false,
        },
      },
    );
  });

  test('wait --until accepts a stage in any case; --no-wait on rollback', () => {
    const wait = parseDeployArgs(['wait', '--until', 'post_test_traffic_shift', '--timeout', '1h']);
    assert.deepEqual(wait.kind === 'command' && wait.command.name === 'wait' && wait.command.until, {
      kind: 'stage',
      stage: 'POST_TEST_TRAFFIC_SHIFT',
    });
    const rollback = parseDeployArgs(['rollback', '--service', 'frontend', '--no-wait']);
    assert.equal(
      rollback.kind === 'command' && rollback.command.name === 'rollback' && rollback.command.wait,
      false,
    );
  });

  test('the sidecar image goes to every service running it, callees first, by wiring container name', () => {
    assert.deepEqual(
      resolveTargets(
        WIRING,
        new Map([
          ['sidecar', SIDECAR],
          ['frontend', `${REGISTRY}/acme/frontend:abc`],
        ]),
        [],
      ),
      [
        { service: 'backend', images: [{ container: 'anomaly-sidecar', image: SIDECAR }] },
        {
          service: 'frontend',
          images: [
            { container: 'app', image: `${REGISTRY}/acme/frontend:abc` },
            { container: 'anomaly-sidecar', image: SIDECAR },
          ],
        },
      ],
    );
  });

  test('property: any valid NAME=REPO@sha256 reference parses back to exactly that reference', () => {
    const repo = fc.stringMatching(/^[a-z0-9]+(\.[a-z0-9]+)*(\/[a-z0-9._-]+){1,3}$/);
    const hex = fc.stringMatching(/^[a-f0-9]{64}$/);
    fc.assert(
      fc.property(repo, hex, (repository, digest) => {
        const image = `${repository}@sha256:${digest}`;
        const request = parseDeployArgs(['deploy', '--image', `backend=${image}`]);
        assert.ok(request.kind === 'command' && request.command.name === 'deploy');
        assert.equal(request.command.images.get('backend'), image);
      }),
    );
  });

  test('property: a reference with whitespace is always refused', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom(' ', '\t', '\n'), fc.string(), (a, ws, b) => {
        assert.throws(() => parseDeployArgs(['deploy', '--image', `backend=repo${a}${ws}${b}`]), UsageError);
      }),
    );
  });

  test('formatDuration reads like the input', () => {
    assert.deepEqual([400, 1000, 45_000, 125_000, 3_723_000].map(formatDuration), [
      '400ms',
      '1s',
      '45s',
      '2m5s',
      '1h2m3s',
    ]);
  });
});

describe('runCli end to end on a mocked ECS', () => {
  test('deploy --dry-run: the cluster, services and containers come from the wiring', async (t) => {
    const ecs = ecsWorld(['backend', 'frontend'], { wired: true });
    t.after(() => ecs.restore());
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [steadyService('backend'), steadyService('frontend')], failures: [] });

    const result = await cli([
      'deploy',
      '--image',
      `backend=${BACKEND}`,
      '--image',
      `sidecar=${SIDECAR}`,
      '--dry-run',
      '--region',
      'eu-west-1',
    ]);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(result.regions, ['eu-west-1']);
    assert.deepEqual(ecs.commandCalls(DescribeServicesCommand)[0]?.args[0].input, {
      cluster: 'acme',
      services: ['backend', 'frontend'],
    });
    assert.deepEqual(result.out, [
      'plan for cluster acme:',
      `  backend: register a new revision of acme-backend (now ${tdArn('acme-backend', 3)}), then update the service`,
      `    app: ${REGISTRY}/acme/backend:old -> ${BACKEND}`,
      `    anomaly-sidecar: ${REGISTRY}/acme/sidecar:old -> ${SIDECAR}`,
      `  frontend: register a new revision of acme-frontend (now ${tdArn('acme-frontend', 3)}), then update the service`,
      `    anomaly-sidecar: ${REGISTRY}/acme/sidecar:old -> ${SIDECAR}`,
      'dry run: nothing registered or updated',
    ]);
    assert.deepEqual(result.err, []);
  });
});
