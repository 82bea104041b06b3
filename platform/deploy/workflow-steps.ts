import { type DeliveryStageWiring, type DeliveryWiring, WiringInvariantError } from '../wiring/index.ts';
import type { ImageBuild } from './images.ts';

/** The workflow's building blocks: pinned actions and the steps several jobs share. */

export interface WorkflowInput {
  /** The wiring's delivery: the branch, the declared name, and every stage in promotion order. */
  readonly delivery: DeliveryWiring;
  /** The wiring's images, their Dockerfile and context relative to the repository. */
  readonly builds: readonly ImageBuild[];
  /** The model artifact directory, relative to the repository, when the repository holds it; null otherwise. */
  readonly modelArtifactDir: string | null;
  /** The package's own images build from its installed folder: the images job installs dependencies first. */
  readonly installsPackage: boolean;
  /** The test job's commands after `npm ci`. */
  readonly tests: readonly string[];
  /** How a job runs the CLI (`npx berth`). */
  readonly cli: string;
}

/** Actions, each pinned to a full commit SHA with its release. */
export const ACTIONS = {
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

/** The step variable carrying an image's reference: `IMAGE_LOG_ROUTER` (never a name the shell owns). */
export const imageVariable = (image: string) => `IMAGE_${image.toUpperCase().replaceAll('-', '_')}`;
/** A GitHub expression as a workflow writes it: `${{ … }}`. */
export const e = (expression: string) => `\${{ ${expression} }}`;

export function setupNode(): string[] {
  return [
    `      - uses: ${ACTIONS.setupNode}`,
    '        with:',
    `          node-version: ${e('env.NODE_VERSION')}`,
    '          cache: npm',
  ];
}

/** The lines that let a job assume a role. */
export function awsLogin(role: string, session: string, extra: string[] = []): string[] {
  return [
    `      - uses: ${ACTIONS.awsCredentials}`,
    '        with:',
    `          role-to-assume: ${e(`vars.${role}`)}`,
    `          role-session-name: ${session}-${e('github.run_id')}`,
    `          aws-region: ${e('vars.AWS_REGION')}`,
    ...extra,
  ];
}

export const checkout = () => [`      - uses: ${ACTIONS.checkout}`];
// No install scripts in a job that can mint an AWS token: a dependency's postinstall would run with the
// same token request credentials as the steps after it.
export const installNoScripts = () => ['      - run: npm ci --no-audit --no-fund --ignore-scripts'];

/** The job ids of one stage (named by its environment). */
export const stageJobs = (environment: string) =>
  ({
    bootstrap: `bootstrap-${environment}`,
    infrastructure: `infrastructure-${environment}`,
    rollout: `rollout-${environment}`,
    promote: `promote-${environment}`,
  }) as const;

/**
 * The job whose outputs are a stage's image references: the images job for a stage promoted from
 * none (the first), the stage's own promotion (the same digests, copied into its repositories) for
 * every later one.
 */
export const releaseSource = (stage: DeliveryStageWiring) =>
  stage.promotedFrom === null ? 'images' : stageJobs(stage.environment).promote;

/**
 * The stage a later stage is promoted from, as the wiring names it.
 *
 * @throws WiringInvariantError when the wiring names a source that is not one of its stages.
 */
export function sourceStage(
  delivery: DeliveryWiring,
  stage: DeliveryStageWiring,
): DeliveryStageWiring | null {
  const from = stage.promotedFrom;
  if (from === null) return null;
  const source = delivery.stages.find((s) => s.environment === from.environment);
  if (!source) {
    throw new WiringInvariantError(
      `delivery.stages.${stage.environment}`,
      `is promoted from '${from.environment}', which is not a stage (stages: ${delivery.stages.map((s) => s.environment).join(', ')})`,
    );
  }
  return source;
}
