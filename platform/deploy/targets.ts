import type { PlatformWiring } from '../wiring/index.ts';
import { UsageError } from './args.ts';
import type { ReleasePlan } from './releases.ts';

/** One container image to roll out. */
export interface ImageUpdate {
  /** The container's name in the task definition, as the wiring names it. */
  readonly container: string;
  readonly image: string;
}

/** What to deploy to one ECS service: one task-definition revision carrying every listed image. */
export interface ServiceTarget {
  readonly service: string;
  readonly images: readonly ImageUpdate[];
}

/** What to release to one scheduled job: the next revision of its family, carrying every listed image. */
export interface JobTarget {
  readonly job: string;
  readonly family: string;
  readonly images: readonly ImageUpdate[];
}

/** Validated options of one AWS deploy run. */
export interface DeployOptions {
  readonly cluster: string;
  /** In rollout order (callees first); rolled out one after another. */
  readonly services: readonly ServiceTarget[];
  /**
   * Scheduled jobs running the images, released once every service rolled out.
   * @default - none
   */
  readonly jobs?: readonly JobTarget[];
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly dryRun: boolean;
  readonly region?: string;
  /**
   * The images as given (`--image NAME=REF`) and the release records to write once every service
   * running one of them runs it.
   * @default - nothing recorded
   */
  readonly release?: { readonly images: ReadonlyMap<string, string>; readonly plan: ReleasePlan };
}

/** Every image name the declaration's services', workers' and jobs' containers run. */
export function declaredImages(wiring: PlatformWiring): string[] {
  return [...new Set([...wiring.tasks, ...wiring.jobs].flatMap((t) => t.containers.map((c) => c.image)))];
}

/**
 * The scheduled jobs whose containers run the given images; none when services are named (a
 * `--service` selection releases those services only).
 */
export function resolveJobTargets(
  wiring: PlatformWiring,
  images: ReadonlyMap<string, string>,
  named: readonly string[],
): JobTarget[] {
  if (named.length > 0) return [];
  return wiring.jobs.flatMap((job) => {
    const updates = job.containers.flatMap((c) => {
      const image = images.get(c.image);
      return image === undefined ? [] : [{ container: c.name, image }];
    });
    return updates.length > 0 ? [{ job: job.job, family: job.family, images: updates }] : [];
  });
}

/**
 * The declared services named with `--service`, in rollout order; all of them when none is named.
 *
 * @throws UsageError for a name the declaration does not have.
 */
export function selectServices(wiring: PlatformWiring, named: readonly string[]): string[] {
  const declared = wiring.rolloutOrder;
  for (const name of named) {
    if (!declared.includes(name)) {
      throw new UsageError(
        `--service '${name}' is not declared (services: ${declared.join(', ')}). Fix: name one of them`,
      );
    }
  }
  return named.length === 0 ? [...declared] : declared.filter((s) => named.includes(s));
}

/**
 * Which containers of which services take the given images: every container whose wiring image is one
 * of them, services callees first. A service none of whose containers runs a given image is left alone.
 *
 * @throws UsageError for an image the declaration does not run, a reference that points at another
 *   declared image's repository (`--image backend=…/acme/frontend:…`), or images no selected service runs.
 * @example
 * resolveTargets(wiring, new Map([['sidecar', ref]]), []);
 * // → [{ service: 'backend', images: [{ container: 'anomaly-sidecar', image: ref }] }, { service: 'frontend', … }]
 */
export function resolveTargets(
  wiring: PlatformWiring,
  images: ReadonlyMap<string, string>,
  named: readonly string[],
): ServiceTarget[] {
  const known = declaredImages(wiring);
  for (const [name, ref] of images) {
    if (!known.includes(name)) {
      throw new UsageError(
        `--image '${name}' is not an image of the declaration (images: ${known.join(', ')}). Fix: name one of them (berth images --dry-run lists what each is built from)`,
      );
    }
    const other = repositoryImage(wiring.platform, ref);
    if (other !== null && other !== name && known.includes(other)) {
      throw new UsageError(
        `--image '${name}=${ref}' points at the ${wiring.platform}/${other} repository; did you mean --image ${other}=…?`,
      );
    }
  }
  const services = selectServices(wiring, named);
  const targets: ServiceTarget[] = [];
  for (const service of services) {
    const task = wiring.tasks.find((t) => t.service === service);
    const updates = (task?.containers ?? []).flatMap((c) => {
      const image = images.get(c.image);
      return image === undefined ? [] : [{ container: c.name, image }];
    });
    if (updates.length > 0) targets.push({ service, images: updates });
  }
  if (targets.length === 0 && resolveJobTargets(wiring, images, named).length === 0) {
    throw new UsageError(
      `no ${named.length > 0 ? 'selected ' : ''}service runs ${[...images.keys()].join(', ')} (services: ${services.join(', ')})`,
    );
  }
  return targets;
}

// `123.dkr.ecr.eu-west-1.amazonaws.com/acme/frontend@sha256:…` → `frontend` (for platform `acme`).
function repositoryImage(platform: string, ref: string): string | null {
  const repository = ref.split('@')[0]?.replace(/:[^/:]+$/, '') ?? '';
  const marker = `/${platform}/`;
  const index = repository.lastIndexOf(marker);
  if (index < 0 && !repository.startsWith(`${platform}/`)) return null;
  const rest = index < 0 ? repository.slice(platform.length + 1) : repository.slice(index + marker.length);
  return rest.includes('/') ? null : rest;
}
