import { type DeliveryStageWiring, WiringInvariantError } from '../wiring/index.ts';
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

/** skopeo (on GitHub's ubuntu runners) copies an image between repositories keeping its digest. */
const SKOPEO_COPY = 'skopeo copy --all --preserve-digests';

/**
 * ECR's error code for a digest the repository does not hold. The AWS CLI exits 254 for every service
 * error and prints `An error occurred (CODE) when calling the DescribeImages operation: …`, so the code
 * is what tells "not there yet" from a denied or throttled call.
 */
const IMAGE_NOT_FOUND = 'ImageNotFoundException';

/**
 * The images job: every image of the wiring built once per release and pushed to ECR tagged with the
 * commit (a re-run reuses what ECR holds), its references by digest the job's outputs.
 */

export function imagesJob(input: WorkflowInput, first: DeliveryStageWiring): string[] {
  const names = input.builds.map((b) => b.name);
  const each = names.join(' ');
  return [
    '  images:',
    '    name: build and push images',
    '    # The bootstrap stack holds the repositories; it is deployed first. One build per release: every',
    '    # stage rolls out these same images by digest.',
    `    needs: [test, ${stageJobs(first.environment).bootstrap}]`,
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
          "      # The platform's own images (sidecar, log router, an OperationsConsole's) build from the installed package.",
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

/**
 * A later stage's images: the release's images copied by digest from the previous stage's repositories
 * into this stage's own (its GitHub environment's ECR_REPOSITORY_PREFIX and push role), so the stage
 * runs exactly the bytes the previous stage ran, from repositories its tasks may pull from. Once the
 * stage's bootstrap stack (its repositories) is current, which waits for the previous rollout.
 */
export function promoteJob(input: WorkflowInput, stage: DeliveryStageWiring): string[] {
  const names = input.builds.map((b) => b.name);
  const jobs = stageJobs(stage.environment);
  // The images of the stage it is promoted from (its repositories, which this stage's push role may
  // read): the images job's for the second stage, the previous promotion's after that.
  const from = sourceStage(input.delivery, stage);
  if (from === null)
    throw new WiringInvariantError(`delivery.stages.${stage.environment}`, 'is promoted from no stage');
  const source = releaseSource(from);
  return [
    `  ${jobs.promote}:`,
    `    name: promote the images (${stage.environment})`,
    `    needs: [${source}, ${jobs.bootstrap}]`,
    '    runs-on: ubuntu-24.04',
    '    timeout-minutes: 20',
    `    environment: ${stage.environment}`,
    '    permissions:',
    '      contents: read',
    '      id-token: write',
    '    outputs:',
    ...names.map((n) => `      ${n}: ${e(`steps.refs.outputs.${n}`)}`),
    '    steps:',
    ...awsLogin('AWS_PUSH_ROLE_ARN', 'promote', ['          mask-aws-account-id: false']),
    '      - id: ecr',
    `        uses: ${ACTIONS.ecrLogin}`,
    "      - name: Copy each image by digest into this stage's repositories",
    '        id: refs',
    '        env:',
    `          REGISTRY: ${e('steps.ecr.outputs.registry')}`,
    `          PREFIX: ${e('vars.ECR_REPOSITORY_PREFIX')}`,
    ...names.map((n) => `          ${imageVariable(n)}: ${e(`needs.${source}.outputs.${n}`)}`),
    '        run: |',
    '          aws ecr get-login-password | skopeo login --username AWS --password-stdin "$REGISTRY"',
    '          promote() {',
    `            digest="\${2##*@}"`,
    '            # A re-run finds the digest already copied (ECR tags are immutable). Only ECR\'s "image not',
    '            # found" means copy it; any other error (access, throttling, no repository) fails the job.',
    '            if ! error=$(aws ecr describe-images --repository-name "$PREFIX$1" --image-ids imageDigest="$digest" 2>&1 >/dev/null); then',
    '              case "$error" in',
    `                *"(${IMAGE_NOT_FOUND})"*) ${SKOPEO_COPY} "docker://$2" "docker://$REGISTRY/$PREFIX$1:$GITHUB_SHA" ;;`,
    '                *) echo "$1: $error" >&2; return 1 ;;',
    '              esac',
    '            fi',
    '            echo "$1=$REGISTRY/$PREFIX$1@$digest" >> "$GITHUB_OUTPUT"',
    '          }',
    ...names.map((n) => `          promote ${n} "$${imageVariable(n)}"`),
    '',
  ];
}
