import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App, Image, ModelEndpoint, Platform, WebService } from '../../../config/index.ts';
import { type PlatformWiring, wirePlatform } from '../../wiring/index.ts';
import { formatReport, preflight } from '../checks.ts';
import { taskEnisPerInstance } from '../eni-limits.ts';
import type { RenderedFacts } from '../rendered.ts';

/** The pure checks on fixture declarations (the CLI test runs this repository's own). */

const image = (name: string) =>
  Image.fromDockerfile(`Dockerfile.${name}`, { entry: `services/${name}/main.ts` });

function manifestOf(
  capacity: { instanceTypes: string[]; minInstances?: number; maxInstances?: number },
  scaling: { min: number; max: number },
  extra: { certificateArn?: string; alarmEmail?: string } = {},
): PlatformWiring {
  const app = new App();
  const platform = new Platform(app, 'tiny', {
    capacity,
    ...(extra.certificateArn ? { edge: { certificateArn: extra.certificateArn } } : {}),
    ...(extra.alarmEmail ? { observability: { alarmEmail: extra.alarmEmail } } : {}),
  });
  new ModelEndpoint(platform, 'log-anomaly', {
    image: image('model'),
    artifactDir: 'model/artifacts/default',
  });
  new WebService(platform, 'web', { image: image('web'), port: 8080, scaling });
  return wirePlatform(app.synth());
}

/** What the AWS renderer writes for one web service: awsvpc, 200 % / 100 %, remediate reserving 2. */
const RENDERED: RenderedFacts = {
  services: [{ name: 'web', maximumPercent: 200, minimumHealthyPercent: 100, networkMode: 'awsvpc' }],
  functions: [
    { name: 'Remediation/Remediate', reservedConcurrency: 2 },
    { name: 'PredictionApi/Predict', reservedConcurrency: undefined },
  ],
};

const blockers = (findings: ReturnType<typeof preflight>) => findings.filter((f) => f.level === 'blocker');

describe('preflight: awsvpc task ENIs', () => {
  it('blocks a declaration that cannot fit a rollout: small instance types, at most one instance', () => {
    // GIVEN t3.micro/t3a.micro (2 ENIs: 1 for tasks) and one instance WHEN one task rolls at 200 %
    const manifest = manifestOf(
      { instanceTypes: ['t3.micro', 't3a.micro'], minInstances: 1, maxInstances: 1 },
      { min: 1, max: 1 },
    );
    const found = blockers(preflight(manifest, RENDERED));
    // THEN the rollout is the one blocker, with its fix
    assert.deepEqual(found, [
      {
        check: 'awsvpc task ENIs',
        level: 'blocker',
        message:
          "a rollout at maximumPercent 200% runs 2 tasks (the services' minimum of 1, old and new side by side); at most 1 task ENIs exist at maximum instances (1..1 instances × 1 task ENIs each, t3.micro: 2 ENIs − 1 primary): the new tasks cannot be placed and the rollout never completes",
        fix: 'choose instance types with more ENIs, or Nitro types that support awsvpcTrunking (e.g. m6i.large: 10 tasks with trunking instead of 2), or raise capacity.maxInstances',
      },
    ]);
    assert.match(formatReport('tiny', preflight(manifest, RENDERED)), /\n1 blocker, \d+ warnings$/);
  });

  it('blocks when even the minimum cannot be placed at maximum instances', () => {
    const manifest = manifestOf(
      { instanceTypes: ['t3.micro', 't3a.micro'], minInstances: 1, maxInstances: 1 },
      { min: 2, max: 2 },
    );
    assert.deepEqual(
      blockers(preflight(manifest, RENDERED)).map((f) => f.message.split(':')[0]),
      [
        "the services' minimum of 2 tasks needs 2 task ENIs; at most 1 exist (1..1 instances × 1 task ENIs each, t3.micro",
        "a rollout at maximumPercent 200% runs 4 tasks (the services' minimum of 2, old and new side by side); at most 1 task ENIs exist at maximum instances (1..1 instances × 1 task ENIs each, t3.micro",
      ],
    );
  });

  it('counts the smallest declared type, and trunking where every type supports it', () => {
    assert.equal(taskEnisPerInstance('t3.medium', false), 2);
    assert.equal(taskEnisPerInstance('m6i.large', false), 2);
    assert.equal(taskEnisPerInstance('m6i.large', true), 10);
    assert.equal(taskEnisPerInstance('t3.medium', true), 2, 'burstable types do not trunk');
    const manifest = manifestOf(
      { instanceTypes: ['m6i.large', 'm5.large'], minInstances: 1, maxInstances: 1 },
      { min: 2, max: 4 },
    );
    assert.equal(
      blockers(preflight(manifest, RENDERED)).length,
      1,
      'without trunking: 2 task ENIs for a 4-task rollout',
    );
    assert.deepEqual(blockers(preflight(manifest, RENDERED, { trunking: true })), []);
    assert.equal(
      blockers(preflight(manifest, RENDERED))[0]!.fix,
      'turn on awsvpcTrunking for the account (m6i.large, m5.large support it), raise capacity.maxInstances, or choose larger instance types',
    );
  });

  it('warns, not guesses, for an instance type outside the table', () => {
    const manifest = manifestOf({ instanceTypes: ['x2gd.large', 't3.medium'] }, { min: 2, max: 6 });
    const eni = preflight(manifest, RENDERED).filter((f) => f.check === 'awsvpc task ENIs');
    assert.deepEqual(
      eni.map((f) => [f.level, f.message]),
      [['warning', 'no ENI limit known for x2gd.large; task density not checked']],
    );
  });
});

describe('preflight: endpoint, concurrency, certificate, subscribers', () => {
  it('blocks reservations past the default quota and names each function', () => {
    const manifest = manifestOf({ instanceTypes: ['t3.medium', 't3a.medium'] }, { min: 2, max: 2 });
    const rendered: RenderedFacts = {
      ...RENDERED,
      functions: [
        { name: 'A', reservedConcurrency: 600 },
        { name: 'B', reservedConcurrency: 301 },
      ],
    };
    assert.deepEqual(blockers(preflight(manifest, rendered)), [
      {
        check: 'Lambda reserved concurrency',
        level: 'blocker',
        message:
          'the functions reserve 901 concurrent executions (A 600, B 301); the default quota of 1000 allows 900 with 100 left unreserved',
        fix: 'lower the reservations or request a higher "Concurrent executions" quota before deploying',
      },
    ]);
  });

  it('reports a declared certificate and alarm subscriber as ok, their absence as warnings', () => {
    const levels = (m: PlatformWiring) =>
      preflight(m, RENDERED)
        .filter((f) => f.check === 'certificate' || f.check === 'alarm subscribers')
        .map((f) => `${f.check}: ${f.level}`);
    const bare = manifestOf({ instanceTypes: ['t3.medium', 't3a.medium'] }, { min: 2, max: 2 });
    const full = manifestOf(
      { instanceTypes: ['t3.medium', 't3a.medium'] },
      { min: 2, max: 2 },
      {
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
        alarmEmail: 'ops@example.com',
      },
    );
    assert.deepEqual(levels(bare), ['certificate: warning', 'alarm subscribers: warning']);
    assert.deepEqual(levels(full), ['certificate: ok', 'alarm subscribers: ok']);
  });

  it('warns for an endpoint instance type it does not know, and for the quota it cannot see', () => {
    const wiring = manifestOf({ instanceTypes: ['t3.medium', 't3a.medium'] }, { min: 2, max: 2 });
    const unknown = { ...wiring, model: { ...wiring.model!, instances: { type: 'ml.z9.large', count: 2 } } };
    const endpoint = preflight(unknown, RENDERED).filter((f) => f.check === 'model endpoint');
    assert.deepEqual(
      endpoint.map((f) => `${f.level}: ${f.message}`),
      [
        'warning: instance type ml.z9.large is not one preflight knows for real-time inference',
        'ok: 2 × ml.z9.large, spread over Availability Zones',
        "warning: 2 × ml.z9.large count against the account's SageMaker quota for that type, which preflight cannot see offline",
      ],
    );
  });
});
