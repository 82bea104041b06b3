import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ECSClient } from '@aws-sdk/client-ecs';
import fc from 'fast-check';
import { EXIT_CODES, formatDuration, parseDeployArgs, USAGE, UsageError } from '../args.ts';
import { runCli } from '../cli.ts';
import {
  CLUSTER,
  DescribeServicesCommand,
  DIGEST,
  ecsWorld,
  fakeDeps,
  REGISTRY,
  steadyService,
} from './fixtures.ts';

const IMAGE = `${REGISTRY}/acme/backend@${DIGEST}`;

/** Runs the CLI with fake time; records whether an ECS client was ever built. */
async function cli(argv: string[]) {
  const { deps, out, err } = fakeDeps();
  const regions: (string | undefined)[] = [];
  const code = await runCli(argv, {
    ...deps,
    createEcs: (region) => {
      regions.push(region);
      return new ECSClient({ region: region ?? 'eu-west-1' });
    },
  });
  return { code, out, err, regions };
}

describe('usage errors', () => {
  const cases: [string, string[], string][] = [
    ['no arguments', [], '--cluster is required'],
    ['no service', ['--cluster', 'acme'], 'at least one --service NAME=IMAGE is required'],
    [
      'service without an image',
      ['--cluster', 'acme', '--service', 'backend'],
      "--service 'backend' must be NAME=IMAGE or NAME:CONTAINER=IMAGE",
    ],
    [
      'empty image',
      ['--cluster', 'acme', '--service', 'backend='],
      "--service 'backend=' must be NAME=IMAGE or NAME:CONTAINER=IMAGE",
    ],
    [
      'a digest that is not sha256',
      ['--cluster', 'acme', '--service', 'backend=repo/backend@md5:abc'],
      "--service 'backend=repo/backend@md5:abc': image 'repo/backend@md5:abc' must be REPO:TAG or REPO@sha256:<64 lowercase hex digits>",
    ],
    [
      'a bad service name',
      ['--cluster', 'acme', '--service', 'back end=repo/x:1'],
      "--service 'back end=repo/x:1': 'back end' must be a service name, optionally followed by :CONTAINER",
    ],
    [
      'too many colons',
      ['--cluster', 'acme', '--service', 'a:b:c=repo/x:1'],
      "--service 'a:b:c=repo/x:1': 'a:b:c' must be a service name, optionally followed by :CONTAINER",
    ],
    [
      'the same container twice',
      ['--cluster', 'acme', '--service', 'backend=repo/x:1', '--service', 'backend:backend=repo/x:2'],
      "--service 'backend:backend=repo/x:2': container 'backend' of 'backend' is given twice",
    ],
    [
      'a bad timeout',
      ['--cluster', 'acme', '--service', `backend=${IMAGE}`, '--timeout', '10 minutes'],
      "--timeout '10 minutes' must be a duration such as 900, 90s, 15m or 1h",
    ],
    [
      'a zero timeout',
      ['--cluster', 'acme', '--service', `backend=${IMAGE}`, '--timeout', '0s'],
      "--timeout '0s' must be greater than zero",
    ],
    [
      'a hammering poll interval',
      ['--cluster', 'acme', '--service', `backend=${IMAGE}`, '--poll-interval', '200ms'],
      "--poll-interval '200ms' must be at least 1s",
    ],
    [
      'an unknown option',
      ['--cluster', 'acme', '--service', `backend=${IMAGE}`, '--force'],
      "unknown option '--force'",
    ],
    [
      'a stray positional',
      ['--cluster', 'acme', 'backend'],
      "unexpected argument 'backend'; every value belongs to an option",
    ],
    [
      'an option without its value',
      ['--service', `backend=${IMAGE}`, '--cluster'],
      "option '--cluster' needs a value",
    ],
  ];
  for (const [name, argv, message] of cases) {
    test(`${name}: usage on stderr, exit 2, no AWS call`, async () => {
      const result = await cli(argv);
      assert.equal(result.code, EXIT_CODES.usage);
      assert.deepEqual(result.err, [`deploy: ${message}`, '', USAGE]);
      assert.deepEqual(result.out, []);
      assert.deepEqual(result.regions, [], 'no ECS client is built for a bad command line');
    });
  }

  test('--help prints the usage on stdout and exits 0', async () => {
    const result = await cli(['--help']);
    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(result.out, [USAGE]);
    assert.deepEqual(result.err, []);
  });
});

describe('parseDeployArgs', () => {
  test('groups containers of one service into one target, keeps order, applies defaults', () => {
    const request = parseDeployArgs([
      '--cluster',
      'acme',
      '--service',
      `frontend=${REGISTRY}/acme/frontend:abc`,
      '--service',
      `backend=${IMAGE}`,
      '--service',
      `frontend:anomaly-sidecar=${REGISTRY}/acme/sidecar:abc`,
    ]);
    assert.deepEqual(request, {
      kind: 'deploy',
      options: {
        cluster: 'acme',
        services: [
          {
            service: 'frontend',
            images: [
              { container: 'frontend', image: `${REGISTRY}/acme/frontend:abc` },
              { container: 'anomaly-sidecar', image: `${REGISTRY}/acme/sidecar:abc` },
            ],
          },
          { service: 'backend', images: [{ container: 'backend', image: IMAGE }] },
        ],
        timeoutMs: 900_000,
        pollIntervalMs: 10_000,
        dryRun: false,
      },
    });
  });

  test('--container overrides the default container; durations accept units', () => {
    const request = parseDeployArgs([
      '--cluster=acme',
      `--service=backend=${IMAGE}`,
      '--container',
      'app',
      '--timeout',
      '1h',
      '--poll-interval',
      '1500ms',
      '--region',
      'eu-west-1',
      '--dry-run',
    ]);
    assert.deepEqual(request, {
      kind: 'deploy',
      options: {
        cluster: 'acme',
        services: [{ service: 'backend', images: [{ container: 'app', image: IMAGE }] }],
        timeoutMs: 3_600_000,
        pollIntervalMs: 1500,
        dryRun: true,
        region: 'eu-west-1',
      },
    });
  });

  test('property: any valid NAME=REPO@sha256 spec parses back to exactly that image', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);
    const repo = fc.stringMatching(/^[a-z0-9]+(\.[a-z0-9]+)*(\/[a-z0-9._-]+){1,3}$/);
    const hex = fc.stringMatching(/^[a-f0-9]{64}$/);
    fc.assert(
      fc.property(name, repo, hex, (service, repository, digest) => {
        const image = `${repository}@sha256:${digest}`;
        const request = parseDeployArgs(['--cluster', 'c', '--service', `${service}=${image}`]);
        assert.equal(request.kind, 'deploy');
        if (request.kind !== 'deploy') return;
        assert.deepEqual(request.options.services, [{ service, images: [{ container: service, image }] }]);
      }),
    );
  });

  test('property: an image with whitespace is always refused', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom(' ', '\t', '\n'), fc.string(), (a, ws, b) => {
        assert.throws(
          () => parseDeployArgs(['--cluster', 'c', '--service', `svc=repo${a}${ws}${b}`]),
          UsageError,
        );
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
  test('--dry-run with --region builds the client for that region and prints the plan', async (t) => {
    const ecs = ecsWorld(['backend']);
    t.after(() => ecs.restore());
    ecs.on(DescribeServicesCommand).resolves({ services: [steadyService('backend')], failures: [] });

    const result = await cli([
      '--cluster',
      CLUSTER,
      '--service',
      `backend=${IMAGE}`,
      '--dry-run',
      '--region',
      'eu-west-1',
    ]);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(result.regions, ['eu-west-1']);
    assert.equal(result.out.at(-1), 'dry run: nothing registered or updated');
    assert.deepEqual(result.err, []);
  });
});
