import type { RegisterTaskDefinitionCommandInput, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import type { ImageUpdate } from './targets.ts';

/**
 * Fields DescribeTaskDefinition returns that RegisterTaskDefinition rejects or ignores. Everything
 * else is copied as is, so settings this command does not know about (a new ECS feature, a volume,
 * FireLens options) survive a deploy instead of being silently dropped by an allow-list.
 */
const READ_ONLY_FIELDS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
] as const satisfies readonly (keyof TaskDefinition)[];

/** One container whose image changes. */
export interface ImageChange {
  readonly container: string;
  readonly from: string;
  readonly to: string;
}

export interface TaskDefinitionRevision {
  readonly input: RegisterTaskDefinitionCommandInput;
  /** Only the containers whose image actually changes; empty when the service already runs these images. */
  readonly changes: readonly ImageChange[];
}

/** A requested container that the task definition does not have. */
export class UnknownContainerError extends Error {
  constructor(
    readonly container: string,
    readonly available: readonly string[],
  ) {
    super(`has no container '${container}' (containers: ${available.join(', ') || 'none'})`);
    this.name = 'UnknownContainerError';
  }
}

/**
 * The RegisterTaskDefinition input for the next revision: the current definition with the given
 * containers' images replaced and read-only fields dropped; tags are carried over.
 *
 * @throws UnknownContainerError when an update names a container that is not in the definition.
 * @example
 * renderTaskDefinitionRevision(current, tags, [{ container: 'backend', image: 'repo/backend@sha256:…' }]);
 */
export function renderTaskDefinitionRevision(
  current: TaskDefinition,
  tags: readonly Tag[] | undefined,
  images: readonly ImageUpdate[],
): TaskDefinitionRevision {
  const containers = current.containerDefinitions ?? [];
  const names = containers.map((c) => c.name ?? '');
  for (const update of images) {
    if (!names.includes(update.container)) throw new UnknownContainerError(update.container, names);
  }

  const changes: ImageChange[] = [];
  const containerDefinitions = containers.map((container) => {
    const update = images.find((i) => i.container === container.name);
    if (!update) return container;
    if (container.image !== update.image) {
      changes.push({ container: update.container, from: container.image ?? '(none)', to: update.image });
    }
    return { ...container, image: update.image };
  });

  const writable: Record<string, unknown> = { ...current };
  for (const field of READ_ONLY_FIELDS) delete writable[field];
  const input = {
    ...writable,
    containerDefinitions,
    // Only send tags when there are some: a tagged registration also needs ecs:TagResource.
    ...(tags && tags.length > 0 ? { tags: [...tags] } : {}),
  } as RegisterTaskDefinitionCommandInput;
  return { input, changes };
}
