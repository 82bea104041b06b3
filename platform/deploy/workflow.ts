import { type DeliveryStageWiring, repositoryPrefix } from '../wiring/index.ts';
import { imagesJob, promoteJob } from './workflow-images.ts';
import {
  ACTIONS,
  awsLogin,
  checkout,
  e,
  imageVariable,
  installNoScripts,
  releaseSource,
  setupNode,
  sourceStage,
  stageJobs,
  type WorkflowInput,
} from './workflow-steps.ts';

export { imageVariable, stageJobs, type WorkflowInput } from './workflow-steps.ts';

/**
 * The GitHub Actions workflow that delivers a declaration: tests, builds its images once, pushes them to
 * ECR tagged with the commit, and promotes that one release through the stages in order, each stage's
 * rollout decided by the anomaly gate before the next one starts. A translation of the wiring and the
 * stages: every image, job and command in it comes from them.
 */

/** The workflow's text (`.github/workflows/deploy.yml`). */
export function renderWorkflow(input: WorkflowInput): string {
  const { stages, branch, declaredPlatform } = input.delivery;
  const names = input.builds.map((b) => b.name);
  const lines = [
    ...header(input),
    'name: deploy',
    '',
    'on:',
    '  push:',
    `    branches: [${branch}]`,
    '  workflow_dispatch:',
    '',
    '# Two deploys never overlap, and a running one is never cancelled half-way through a rollout: the',
    '# next one waits.',
    'concurrency:',
    `  group: deploy-${declaredPlatform}`,
    '  cancel-in-progress: false',
    '',
    'permissions:',
    '  contents: read',
    '',
    'env:',
    '  NODE_VERSION: "20"',
    `  AWS_REGION: ${e('vars.AWS_REGION')}`,
    '',
    'jobs:',
    ...(input.modelArtifactDir ? changesJob(input.modelArtifactDir) : []),
    ...testJob(input),
    ...stages.flatMap((stage) => [
      ...bootstrapJob(input, stage),
      ...(stage.promotedFrom === null ? imagesJob(input, stage) : promoteJob(input, stage)),
      ...infrastructureJob(input, stage, names),
      ...(stage.promotedFrom === null && input.modelArtifactDir
        ? publishModelJob(input.modelArtifactDir)
        : []),
      ...rolloutJob(input, stage, names),
    ]),
  ];
  // One blank line between jobs, none at the end.
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

/** The bootstrap stack's RepositoryPrefix output of each stage. */
const repositoryPrefixes = (input: WorkflowInput) =>
  input.delivery.stages.map((s) => `"${repositoryPrefix(s.platform)}"`).join(', ');

function header(input: WorkflowInput): string[] {
  const { stages, branch, declaredPlatform } = input.delivery;
  const order = stages.map((s) => `${s.environment}${s.protected ? ' (protected)' : ''}`).join(', then ');
  return [
    `# Written by \`${input.cli} workflow\` from the declaration (platform ${declaredPlatform}); change the`,
    '# declaration and run it again rather than editing this file (a test compares the two).',
    '#',
    `# Delivery: every push to ${branch} (or a manual run) tests, builds the declaration's images once and pushes`,
    '# them to ECR tagged with the commit SHA, then promotes that one release through its stages in order.',
    `# Stages: ${order}.`,
    '# Each stage applies its infrastructure with `cdk deploy`, rolls the ECS services onto the new images',
    '# by digest (and gives scheduled jobs a new revision), and the anomaly gate decides the rollout: a',
    '# stage that rolls back fails, and no later stage starts.',
    '#',
    '# Before the first run a person deploys the bootstrap stack once per stage (README, "The account',
    '# lifecycle"): it holds the repositories, the release records and the three roles below, whose ARNs',
    "# are variables of the stage's GitHub environment (or of the repository). Releases belong to the",
    '# deploy command (rollout jobs): the platform stack names no image, so its `cdk deploy` changes nothing',
    '# a release changed.',
    '#',
    '# AWS access is GitHub OIDC only (no stored keys), and only the jobs that call AWS may mint a token',
    '# (`id-token: write` per job, never for the workflow): `npm ci` of the dependency tree and the test job',
    '# get none. Each job assumes its own role:',
    `#   images          AWS_PUSH_ROLE_ARN     push to ECR only; trusts this workflow on ${branch}`,
    "#   infrastructure  AWS_INFRA_ROLE_ARN    cdk deploy; trusts this workflow in the stage's environment only",
    "#   rollout         AWS_ROLLOUT_ROLE_ARN  task definitions, services, PassRole; the stage's environment only",
    ...(stages.length > 1
      ? [
          "#   promote         AWS_PUSH_ROLE_ARN     a later stage's: reads the previous stage's repositories, pushes to",
          "#                                         its own; trusts this workflow in the stage's environment only",
        ]
      : []),
    "# The roles pin the workflow file through `job_workflow_ref` in the OIDC subject, so the repository's",
    '# subject template must include it once (platform/aws/README.md, "Delivery trust"). Variables:',
    '#   AWS_REGION, AWS_PUSH_ROLE_ARN, AWS_ROLLOUT_ROLE_ARN, AWS_INFRA_ROLE_ARN, ECR_REPOSITORY_PREFIX (the',
    "#   bootstrap stack's outputs PushRoleArn, RolloutRoleArn, InfrastructureRoleArn, RepositoryPrefix",
    `#   ${repositoryPrefixes(input)}). The cluster, services, jobs and containers come from the`,
    '#   declaration: the deploy command reads them from the wiring model.',
    '# A protected stage\'s GitHub environment has required reviewers and "main only" deployment branches.',
    ...(stages.length > 1
      ? [
          "# The images job runs in no environment: the repository-level variables are the first stage's;",
          "# each later stage's environment sets its own, and its promote job copies the same digests there.",
        ]
      : []),
    '# Every action is pinned to a full commit SHA, its release in the comment.',
    ...(input.modelArtifactDir
      ? [
          "# The endpoint's model.tar.gz is a CDK asset: when its files change its hash changes, and `cdk deploy`",
          '# uploads it and rolls the SageMaker endpoint onto a new endpoint config.',
        ]
      : []),
    '# Optional secrets DOCKERHUB_USERNAME / DOCKERHUB_TOKEN also push the images to Docker Hub.',
  ];
}

function changesJob(artifactDir: string): string[] {
  return [
    '  changes:',
    '    name: detect changes',
    '    runs-on: ubuntu-24.04',
    '    timeout-minutes: 5',
    '    outputs:',
    `      model: ${e('steps.filter.outputs.model')}`,
    '    steps:',
    ...checkout(),
    '      - id: filter',
    `        uses: ${ACTIONS.pathsFilter}`,
    '        with:',
    '          filters: |',
    '            model:',
    `              - '${artifactDir}/**'`,
    '',
  ];
}

function testJob(input: WorkflowInput): string[] {
  return [
    '  test:',
    '    runs-on: ubuntu-24.04',
    '    timeout-minutes: 20',
    '    steps:',
    ...checkout(),
    ...setupNode(),
    '      - run: npm ci --no-audit --no-fund',
    ...input.tests.map((command) => `      - run: ${command}`),
    '',
  ];
}

/** A stage's jobs run in its GitHub environment: its variables, its OIDC subject, its reviewers. */
function environmentLines(stage: DeliveryStageWiring): string[] {
  return [
    ...(stage.protected
      ? ['    # Protected: its required reviewers approve the stage before the job starts.']
      : []),
    `    environment: ${stage.environment}`,
    '    permissions:',
    '      contents: read',
    '      id-token: write',
  ];
}

/** What a stage waits for: the tests for the first, the rollout (judged by the gate) of the stage it is promoted from after. */
function stageEntry(input: WorkflowInput, stage: DeliveryStageWiring): string {
  const source = sourceStage(input.delivery, stage);
  return source === null ? 'test' : stageJobs(source.environment).rollout;
}

/** A declared environment is named on every command of its stage; the one implicit stage needs no name. */
const envFlag = (stage: DeliveryStageWiring) => (stage.declared ? ` --env ${stage.environment}` : '');

/** `cdk deploy` of a stage's stacks: with declared environments, synth renders only the stage's. */
function cdkDeploy(input: WorkflowInput, stage: DeliveryStageWiring, stacks: string): string {
  const synth = `${input.cli} synth${envFlag(stage)}`;
  return `npx cdk deploy "${stacks}" --require-approval never --progress events --app "${synth}"`;
}

/**
 * A stage job up to its own steps: it runs in the stage's environment, installs without scripts and
 * assumes its role.
 */
function stageJob(
  stage: DeliveryStageWiring,
  job: { readonly needs: string; readonly minutes: number; readonly role: string; readonly session: string },
): string[] {
  return [
    `    needs: ${job.needs}`,
    '    runs-on: ubuntu-24.04',
    `    timeout-minutes: ${job.minutes}`,
    ...environmentLines(stage),
    '    steps:',
    ...checkout(),
    ...setupNode(),
    ...installNoScripts(),
    ...awsLogin(job.role, job.session),
  ];
}

function bootstrapJob(input: WorkflowInput, stage: DeliveryStageWiring): string[] {
  return [
    `  ${stageJobs(stage.environment).bootstrap}:`,
    `    name: cdk deploy the bootstrap stage (${stage.environment})`,
    ...(stage.promotedFrom === null
      ? [
          "    # A person created it once; this keeps it current (a new image's repository and release record,",
          "    # the roles' permissions) before any image is pushed or task definition registered.",
        ]
      : ['    # Only once the previous stage rolled out and its anomaly gate let the release through.']),
    ...stageJob(stage, {
      needs: stageEntry(input, stage),
      minutes: 20,
      role: 'AWS_INFRA_ROLE_ARN',
      session: 'cdk-bootstrap',
    }),
    '      - name: cdk deploy bootstrap',
    `        run: ${cdkDeploy(input, stage, '*-bootstrap')}`,
    '',
  ];
}

/** The step `env:` carrying every image reference from the job that released them to this stage. */
function imageEnv(names: readonly string[], source: string): string[] {
  return [
    '        env:',
    ...names.map((n) => `          ${imageVariable(n)}: ${e(`needs.${source}.outputs.${n}`)}`),
  ];
}

const imageFlags = (names: readonly string[]) =>
  names.map((n) => `          --image "${n}=$${imageVariable(n)}"`);

function infrastructureJob(
  input: WorkflowInput,
  stage: DeliveryStageWiring,
  names: readonly string[],
): string[] {
  const jobs = stageJobs(stage.environment);
  return [
    `  ${jobs.infrastructure}:`,
    `    name: cdk deploy (${stage.environment})`,
    "    # The platform stack's task definitions take their images from the release records; on the first",
    "    # run the records are seeded with this release's images (pushed by the images job) before it.",
    ...stageJob(stage, {
      needs: `[${releaseSource(stage)}, ${jobs.bootstrap}]`,
      minutes: 60,
      role: 'AWS_INFRA_ROLE_ARN',
      session: 'cdk-deploy',
    }),
    '      - name: Seed the release records on the first run (later runs leave them to the rollout)',
    ...imageEnv(names, releaseSource(stage)),
    '        run: >-',
    `          ${input.cli} deploy seed${envFlag(stage)}`,
    ...imageFlags(names),
    '      # No image in the template: an unchanged infrastructure is a no-op, whatever was released since.',
    '      - name: cdk deploy',
    `        run: ${cdkDeploy(input, stage, '*-platform')}`,
    '',
  ];
}

function publishModelJob(artifactDir: string): string[] {
  return [
    '  publish-model:',
    '    name: publish model artifact',
    '    needs: [changes, test]',
    "    if: needs.changes.outputs.model == 'true'",
    '    runs-on: ubuntu-24.04',
    '    timeout-minutes: 15',
    '    steps:',
    ...checkout(),
    '      - name: Pack model.tar.gz',
    '        run: |',
    "          # SageMaker expects the artifact directory's contents at the root of model.tar.gz. The",
    '          # endpoint itself is updated by `cdk deploy` (the same directory is its S3 asset); this keeps a',
    '          # versioned copy of exactly what this commit serves, with its metadata, for audit and rollback.',
    `          tar -czf model.tar.gz -C ${artifactDir} .`,
    '          sha256sum model.tar.gz >> "$GITHUB_STEP_SUMMARY"',
    `      - uses: ${ACTIONS.uploadArtifact}`,
    '        with:',
    `          name: model-${e('github.sha')}`,
    '          path: model.tar.gz',
    '          if-no-files-found: error',
    '          retention-days: 90',
    '',
  ];
}

function rolloutJob(input: WorkflowInput, stage: DeliveryStageWiring, names: readonly string[]): string[] {
  const jobs = stageJobs(stage.environment);
  return [
    `  ${jobs.rollout}:`,
    `    name: roll out (${stage.environment})`,
    ...stageJob(stage, {
      needs: `[${releaseSource(stage)}, ${jobs.infrastructure}]`,
      minutes: 45,
      role: 'AWS_ROLLOUT_ROLE_ARN',
      session: 'rollout',
    }),
    '      - name: Roll out every service running the new images, callees first, then the scheduled jobs',
    ...imageEnv(names, releaseSource(stage)),
    '        # Records each image in its release parameter once every service and job running it runs it.',
    '        # Exits 1 when a deployment rolls back (circuit breaker, alarm, the anomaly gate; its revision',
    '        # is deregistered), 124 on timeout; either fails the job and stops the promotion. A declared',
    `        # manual approval pauses the release: answer with \`${input.cli} deploy continue\` (or \`abort\`)`,
    '        # within --timeout.',
    '        run: >-',
    `          ${input.cli} deploy${envFlag(stage)}`,
    ...imageFlags(names),
    '          --timeout 20m',
    '',
  ];
}
