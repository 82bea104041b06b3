import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { type PlatformWiring, RELEASE_NOT_RECORDED } from '../wiring/index.ts';
import { EXIT_CODES, type ExitCode } from './args.ts';
import { describeError } from './context.ts';

/**
 * Release records: one SSM parameter per image (the wiring's `releaseParameter`) holding the reference
 * of its last release. CloudFormation resolves them whenever it registers a task definition, so an
 * infrastructure change starts tasks from the released images; the deploy command writes them, and
 * only what every service running the image now runs.
 */

export type ReleaseSsm = Pick<SSMClient, 'send'>;

/** Which image names are released to which parameter, and which services run each image. */
export interface ReleasePlan {
  /** Image name → its release parameter. */
  readonly parameters: ReadonlyMap<string, string>;
  /** Image name → the declared services and scheduled jobs whose containers run it. */
  readonly runBy: ReadonlyMap<string, readonly string[]>;
}

/** The release records of a wiring. */
export function releasePlan(wiring: PlatformWiring): ReleasePlan {
  const runBy = new Map<string, string[]>();
  const units = [
    ...wiring.tasks.map((t) => ({ name: t.service, containers: t.containers })),
    ...wiring.jobs.map((j) => ({ name: j.job, containers: j.containers })),
  ];
  for (const unit of units) {
    for (const container of unit.containers) {
      const services = runBy.get(container.image) ?? [];
      if (!services.includes(unit.name)) services.push(unit.name);
      runBy.set(container.image, services);
    }
  }
  return {
    parameters: new Map(wiring.images.map((image) => [image.name, image.releaseParameter])),
    runBy,
  };
}

/**
 * The images of `images` a release may record: those every service running them now runs, that is,
 * every one of those services was `released` (rolled out, or already running these images).
 */
export function releasedImages(
  plan: ReleasePlan,
  images: ReadonlyMap<string, string>,
  released: ReadonlySet<string>,
): Map<string, string> {
  const recorded = new Map<string, string>();
  for (const [name, ref] of images) {
    if (!plan.parameters.has(name)) continue;
    const services = plan.runBy.get(name) ?? [];
    if (services.length > 0 && services.every((s) => released.has(s))) recorded.set(name, ref);
  }
  return recorded;
}

/** Writes each image's reference into its release parameter; returns the lines to print. */
export async function recordReleases(
  ssm: ReleaseSsm,
  plan: ReleasePlan,
  images: ReadonlyMap<string, string>,
): Promise<string[]> {
  const lines: string[] = [];
  for (const [name, ref] of images) {
    const parameter = plan.parameters.get(name)!;
    await ssm.send(new PutParameterCommand({ Name: parameter, Value: ref, Type: 'String', Overwrite: true }));
    lines.push(`release: ${name} recorded in ${parameter}`);
  }
  return lines;
}

/**
 * `seed`: records the given images where no release is recorded yet (the parameter still holds
 * `none`), so the platform stack's first `cdk deploy` starts its tasks from them. Later runs find the
 * records the deploy command wrote and leave them alone.
 */
export async function runSeed(
  images: ReadonlyMap<string, string>,
  plan: ReleasePlan,
  deps: {
    readonly ssm: ReleaseSsm;
    readonly out: (line: string) => void;
    readonly err: (line: string) => void;
  },
): Promise<ExitCode> {
  for (const [name, ref] of images) {
    const parameter = plan.parameters.get(name);
    if (!parameter) {
      deps.err(`deploy: seed: '${name}' is not an image this platform builds`);
      return EXIT_CODES.failed;
    }
    try {
      const current = await currentValue(deps.ssm, parameter);
      if (current === undefined) {
        deps.err(
          `deploy: seed: ${parameter} does not exist; deploy the bootstrap stack first (npx cdk deploy "*-bootstrap")`,
        );
        return EXIT_CODES.failed;
      }
      if (current !== RELEASE_NOT_RECORDED) {
        deps.out(`seed: ${name} already released as ${current}; left as is`);
        continue;
      }
      await deps.ssm.send(
        new PutParameterCommand({ Name: parameter, Value: ref, Type: 'String', Overwrite: true }),
      );
      deps.out(`seed: ${name} recorded as ${ref} in ${parameter}`);
    } catch (error) {
      deps.err(`deploy: seed: ${name}: ${describeError(error)}`);
      return EXIT_CODES.failed;
    }
  }
  return EXIT_CODES.ok;
}

async function currentValue(ssm: ReleaseSsm, name: string): Promise<string | undefined> {
  try {
    const response = await ssm.send(new GetParameterCommand({ Name: name }));
    return response.Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}
