import type { PlatformWiring } from '../wiring/index.ts';
import type { ImageBuild } from './images.ts';
import { type DeliveryStage, deliveryBranch } from './stages.ts';

/**
 * The GitHub Actions workflow that delivers a declaration: tests, builds its images once, pushes them to
 * ECR tagged with the commit, and promotes that one release through the stages in order, each stage's
 * rollout decided by the anomaly gate before the next one starts. A translation of the wiring and the
 * stages: every image, job and command in it comes from them.
 */

export interface WorkflowInput {
  readonly wiring: PlatformWiring;
  /** In promotion order (deliveryStages). */
  readonly stages: readonly DeliveryStage[];
  /** The wiring's images, their Dockerfile and context relative to the repository. */
  readonly builds: readonly ImageBuild[];
  /** The model artifact directory, relative to the repository, when the repository holds it; null otherwise. */
  readonly modelArtifactDir: string | null;
  /** The package's own images build from its installed folder: the images job installs dependencies first. */
  readonly installsPackage: boolean;
  /** How a job runs the CLI (`npx berth`). */
  readonly cli: string;
}

/** Actions, each pinned to a full commit SHA with its release. */
const ACTIONS = {
  checkout: 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2',
  setupNode: 'actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0',
  pathsFilter: 'dorny/paths-filter@de90cc6fb38fc0963ad72b210f1f284cd68cea36 # v3.0.2',
  awsCredentials: 'aws-actions/configure-aws-credentials@ececac1a45f3b08a01d2dd070d28d111c5fe6722 # v4.1.0',
  ecrLogin: 'aws-actions/amazon-ecr-login@062b18b96a7aff071d4dc91bc00c4c1a7945b076 # v2.0.1',
  buildx: 'docker/setup-buildx-action@b5ca514318bd6ebac0fb2aedd5d36ec1b5c232a2 # v3.10.0',
  dockerLogin: 'docker/login-action@74a5d142397b4f367a81961eba4e8cd7edddf772 # v3.4.0',
  buildPush: 'docker/build-push-action@471d1dc4e07e5cdedd4c2171150001c434f0b7a4 # v6.15.0',
  uploadArtifact: 'actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2',
} as const;

/** The job ids of one stage. */
export const stageJobs = (stage: DeliveryStage) =>
  ({
    bootstrap: `bootstrap-${stage.environment}`,
    infrastructure: `infrastructure-${stage.environment}`,
    rollout: `rollout-${stage.environment}`,
  }) as const;

/** The step variable carrying an image's reference: `IMAGE_LOG_ROUTER` (never a name the shell owns). */
export const imageVariable = (image: string) => `IMAGE_${image.toUpperCase().replaceAll('-', '_')}`;

const e = (expression: string) => `\${{ ${expression} }}`;

/** The workflow's text (`.github/workflows/deploy.yml`). */
export function renderWorkflow(input: WorkflowInput): string {
  const { stages } = input;
  const names = input.builds.map((b) => b.name);
  const lines = [
    ...header(input),
    'name: deploy',
    '',
    'on:',
    '  push:',
    `    branches: [${deliveryBranch(input.wiring)}]`,
    '  workflow_dispatch:',
    '',
    '# Two deploys never overlap, and a running one is never cancelled half-way through a rollout: the',
    '# next one waits.',
    'concurrency:',
    `  group: deploy-${input.wiring.platform}`,
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
    ...testJob(),
    ...stages.flatMap((stage, index) => [
      ...bootstrapJob(input, stage, index),
      ...(index === 0 ? imagesJob(input, stage) : []),
      ...infrastructureJob(input, stage, names),
      ...(index === 0 && input.modelArtifactDir ? publishModelJob(input.modelArtifactDir) : []),
      ...rolloutJob(input, stage, names),
    ]),
  ];
  // One blank line between jobs, none at the end.
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

function header(input: WorkflowInput): string[] {
  const order = input.stages
    .map((s) => `${s.environment}${s.protected ? ' (protected)' : ''}`)
    .join(', then ');
  return [
    `# Written by \`${input.cli} workflow\` from the declaration (platform ${input.wiring.platform}); change the`,
    '# declaration and run it again rather than editing this file (a test compares the two).',
    '#',
    `# Delivery: every push to ${deliveryBranch(input.wiring)} (or a manual run) tests, builds the declaration's images once and pushes`,
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
    `#   images          AWS_PUSH_ROLE_ARN     push to ECR only; trusts this workflow on ${deliveryBranch(input.wiring)}`,
    "#   infrastructure  AWS_INFRA_ROLE_ARN    cdk deploy; trusts this workflow in the stage's environment only",
    "#   rollout         AWS_ROLLOUT_ROLE_ARN  task definitions, services, PassRole; the stage's environment only",
    "# The roles pin the workflow file through `job_workflow_ref` in the OIDC subject, so the repository's",
    '# subject template must include it once (platform/aws/README.md, "Delivery trust"). Variables:',
    '#   AWS_REGION, AWS_PUSH_ROLE_ARN, AWS_ROLLOUT_ROLE_ARN, AWS_INFRA_ROLE_ARN, ECR_REPOSITORY_PREFIX (the',
    "#   bootstrap stack's outputs PushRoleArn, RolloutRoleArn, InfrastructureRoleArn, RepositoryPrefix",
    `#   "${input.wiring.platform}/"). The cluster, services, jobs and containers come from the`,
    '#   declaration: the deploy command reads them from the wiring model.',
    '# A protected stage\'s GitHub environment has required reviewers and "main only" deployment branches.',
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

function setupNode(): string[] {
  return [
    `      - uses: ${ACTIONS.setupNode}`,
    '        with:',
    `          node-version: ${e('env.NODE_VERSION')}`,
    '          cache: npm',
  ];
}

/** The lines that let a job assume a role. */
function awsLogin(role: string, session: string, extra: string[] = []): string[] {
  return [
    `      - uses: ${ACTIONS.awsCredentials}`,
    '        with:',
    `          role-to-assume: ${e(`vars.${role}`)}`,
    `          role-session-name: ${session}-${e('github.run_id')}`,
    `          aws-region: ${e('vars.AWS_REGION')}`,
    ...extra,
  ];
}

const checkout = () => [`      - uses: ${ACTIONS.checkout}`];
// No install scripts in a job that can mint an AWS token: a dependency's postinstall would run with the
// same token request credentials as the steps after it.
const installNoScripts = () => ['      - run: npm ci --no-audit --no-fund --ignore-scripts'];

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

function testJob(): string[] {
  return [
    '  test:',
    '    runs-on: ubuntu-24.04',
    '    timeout-minutes: 20',
    '    steps:',
    ...checkout(),
    ...setupNode(),
    '      - run: npm ci --no-audit --no-fund',
    '      - run: npm test',
    '',
  ];
}

/** A stage's jobs run in its GitHub environment: its variables, its OIDC subject, its reviewers. */
function environmentLines(stage: DeliveryStage): string[] {
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

/** What a stage waits for: the tests for the first, the previous stage's rollout (judged by the gate) after. */
function stageEntry(input: WorkflowInput, stage: DeliveryStage): string {
  const index = input.stages.indexOf(stage);
  return index === 0 ? 'test' : stageJobs(input.stages[index - 1]!).rollout;
}

function cdkDeploy(input: WorkflowInput, stacks: string): string {
  return `npx cdk deploy "${stacks}" --require-approval never --progress events --app "${input.cli} synth"`;
}

function bootstrapJob(input: WorkflowInput, stage: DeliveryStage, index: number): string[] {
  return [
    `  ${stageJobs(stage).bootstrap}:`,
    `    name: cdk deploy the bootstrap stage (${stage.environment})`,
    ...(index === 0
      ? [
          "    # A person created it once; this keeps it current (a new image's repository and release record,",
          "    # the roles' permissions) before any image is pushed or task definition registered.",
        ]
      : ['    # Only once the previous stage rolled out and its anomaly gate let the release through.']),
    `    needs: ${stageEntry(input, stage)}`,
    '    runs-on: ubuntu-24.04',
    '    timeout-minutes: 20',
    ...environmentLines(stage),
    '    steps:',
    ...checkout(),
    ...setupNode(),
    ...installNoScripts(),
    ...awsLogin('AWS_INFRA_ROLE_ARN', 'cdk-bootstrap'),
    '      - name: cdk deploy bootstrap',
    `        run: ${cdkDeploy(input, '*-bootstrap')}`,
    '',
  ];
}

function imagesJob(input: WorkflowInput, first: DeliveryStage): string[] {
  const names = input.builds.map((b) => b.name);
  const each = names.join(' ');
  return [
    '  images:',
    '    name: build and push images',
    '    # The bootstrap stack holds the repositories; it is deployed first. One build per release: every',
    '    # stage rolls out these same images by digest.',
    `    needs: [test, ${stageJobs(first).bootstrap}]`,
    '    runs-on: ubuntu-24.04',
    '    timeout-minutes: 45',
    '    permissions:',
    '      contents: read',
    '      id-token: write',
    '    env:',
    '      # Secrets cannot appear in `if:`; an env copy can.',
    `      DOCKERHUB_USERNAME: ${e('secrets.DOCKERHUB_USERNAME')}`,
    '    outputs:',
    ...names.map((n) => `      ${n}: ${e(`steps.refs.outputs.${n}`)}`),
    '    steps:',
    ...checkout(),
    ...(input.installsPackage
      ? [
          "      # The platform's own images (sidecar, log router) build from the installed package.",
          ...setupNode(),
          ...installNoScripts(),
        ]
      : []),
    ...awsLogin('AWS_PUSH_ROLE_ARN', 'images', [
      '          # The image references passed to later jobs contain the account id; a masked value would drop them.',
      '          mask-aws-account-id: false',
    ]),
    '      - id: ecr',
    `        uses: ${ACTIONS.ecrLogin}`,
    `      - uses: ${ACTIONS.buildx}`,
    '      - name: Log in to Docker Hub',
    "        if: env.DOCKERHUB_USERNAME != ''",
    `        uses: ${ACTIONS.dockerLogin}`,
    '        with:',
    `          username: ${e('secrets.DOCKERHUB_USERNAME')}`,
    `          password: ${e('secrets.DOCKERHUB_TOKEN')}`,
    '      - name: Tags',
    '        id: tags',
    '        env:',
    `          REGISTRY: ${e('steps.ecr.outputs.registry')}`,
    `          PREFIX: ${e('vars.ECR_REPOSITORY_PREFIX')}`,
    '        run: |',
    `          for image in ${each}; do`,
    '            tags="$REGISTRY/$PREFIX$image:$GITHUB_SHA"',
    '            if [ -n "$DOCKERHUB_USERNAME" ]; then',
    '              tags="$tags,$DOCKERHUB_USERNAME/$image:$GITHUB_SHA"',
    '            fi',
    '            echo "$image=$tags" >> "$GITHUB_OUTPUT"',
    '          done',
    '      # ECR tags are immutable: a re-run of this job for the same commit ("Re-run all jobs") reuses what',
    '      # the first run pushed instead of failing on "tag already exists". Any other error fails the job.',
    '      - name: Images already pushed for this commit',
    '        id: existing',
    '        env:',
    `          PREFIX: ${e('vars.ECR_REPOSITORY_PREFIX')}`,
    '        run: |',
    `          for image in ${each}; do`,
    '            digest=$(aws ecr batch-get-image --repository-name "$PREFIX$image" \\',
    '              --image-ids imageTag="$GITHUB_SHA" \\',
    '              --accepted-media-types application/vnd.oci.image.index.v1+json \\',
    '                application/vnd.docker.distribution.manifest.list.v2+json \\',
    '                application/vnd.oci.image.manifest.v1+json \\',
    '                application/vnd.docker.distribution.manifest.v2+json \\',
    "              --query 'images[0].imageId.imageDigest' --output text)",
    '            if [ "$digest" = "None" ]; then',
    '              digest=""',
    '            else',
    '              echo "$image: $GITHUB_SHA is already in ECR as $digest; not rebuilt"',
    '            fi',
    '            echo "$image=$digest" >> "$GITHUB_OUTPUT"',
    '          done',
    ...input.builds.flatMap((b) => [
      `      - id: ${b.name}`,
      `        if: steps.existing.outputs.${b.name} == ''`,
      `        uses: ${ACTIONS.buildPush}`,
      '        with:',
      `          context: ${b.context}`,
      `          file: ${b.dockerfile}`,
      '          push: true',
      `          tags: ${e(`steps.tags.outputs.${b.name}`)}`,
      `          cache-from: type=gha,scope=${b.name}`,
      `          cache-to: type=gha,mode=max,scope=${b.name}`,
    ]),
    '      - name: Image references by digest',
    '        id: refs',
    '        env:',
    `          REPO: ${e('steps.ecr.outputs.registry')}/${e('vars.ECR_REPOSITORY_PREFIX')}`,
    ...names.map(
      (n) =>
        `          ${imageVariable(n)}: ${e(`steps.${n}.outputs.digest || steps.existing.outputs.${n}`)}`,
    ),
    '        run: |',
    '          # A digest pins exactly the bytes that were built; a tag could be moved afterwards.',
    '          {',
    ...names.map((n) => `            echo "${n}=\${REPO}${n}@$${imageVariable(n)}"`),
    '          } >> "$GITHUB_OUTPUT"',
    '',
  ];
}

/** The step `env:` carrying every image reference from the images job. */
function imageEnv(names: readonly string[]): string[] {
  return [
    '        env:',
    ...names.map((n) => `          ${imageVariable(n)}: ${e(`needs.images.outputs.${n}`)}`),
  ];
}

const imageFlags = (names: readonly string[]) =>
  names.map((n) => `          --image "${n}=$${imageVariable(n)}"`);

function infrastructureJob(input: WorkflowInput, stage: DeliveryStage, names: readonly string[]): string[] {
  const jobs = stageJobs(stage);
  return [
    `  ${jobs.infrastructure}:`,
    `    name: cdk deploy (${stage.environment})`,
    "    # The platform stack's task definitions take their images from the release records; on the first",
    "    # run the records are seeded with this release's images (pushed by the images job) before it.",
    `    needs: [images, ${jobs.bootstrap}]`,
    '    runs-on: ubuntu-24.04',
    '    timeout-minutes: 60',
    ...environmentLines(stage),
    '    steps:',
    ...checkout(),
    ...setupNode(),
    ...installNoScripts(),
    ...awsLogin('AWS_INFRA_ROLE_ARN', 'cdk-deploy'),
    '      - name: Seed the release records on the first run (later runs leave them to the rollout)',
    ...imageEnv(names),
    '        run: >-',
    `          ${input.cli} deploy seed --env ${stage.environment}`,
    ...imageFlags(names),
    '      # No image in the template: an unchanged infrastructure is a no-op, whatever was released since.',
    '      - name: cdk deploy',
    `        run: ${cdkDeploy(input, '*-platform')}`,
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

function rolloutJob(input: WorkflowInput, stage: DeliveryStage, names: readonly string[]): string[] {
  const jobs = stageJobs(stage);
  return [
    `  ${jobs.rollout}:`,
    `    name: roll out (${stage.environment})`,
    `    needs: [images, ${jobs.infrastructure}]`,
    '    runs-on: ubuntu-24.04',
    '    timeout-minutes: 45',
    ...environmentLines(stage),
    '    steps:',
    ...checkout(),
    ...setupNode(),
    ...installNoScripts(),
    ...awsLogin('AWS_ROLLOUT_ROLE_ARN', 'rollout'),
    '      - name: Roll out every service running the new images, callees first, then the scheduled jobs',
    ...imageEnv(names),
    '        # Records each image in its release parameter once every service and job running it runs it.',
    '        # Exits 1 when a deployment rolls back (circuit breaker, alarm, the anomaly gate; its revision',
    '        # is deregistered), 124 on timeout; either fails the job and stops the promotion. A declared',
    `        # manual approval pauses the release: answer with \`${input.cli} deploy continue\` (or \`abort\`)`,
    '        # within --timeout.',
    '        run: >-',
    `          ${input.cli} deploy --env ${stage.environment}`,
    ...imageFlags(names),
    '          --timeout 20m',
    '',
  ];
}
