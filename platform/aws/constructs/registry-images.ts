import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import type { TaskWiring } from '../../wiring/index.ts';
import { repositoryName } from './registry.ts';

/**
 * The images task definitions start from: the registry stack's repositories, addressed by their
 * contract names (no cross-stack export, so either stack can be deleted and deployed again on its
 * own), or a declared registry image as is.
 */
export class RegistryImages {
  private readonly byName = new Map<string, ecr.IRepository>();

  constructor(
    private readonly scope: Construct,
    private readonly platformName: string,
    private readonly tasks: readonly TaskWiring[],
    private readonly imageTag: string,
  ) {}

  /** Repositories referenced so far, by image name. */
  get repositories(): ReadonlyMap<string, ecr.IRepository> {
    return this.byName;
  }

  image(image: string): ecs.ContainerImage {
    const task = this.tasks.find((t) => t.service === image);
    if (task?.image.kind === 'registry') return ecs.ContainerImage.fromRegistry(task.image.uri);
    return ecs.ContainerImage.fromEcrRepository(this.repository(image), this.imageTag);
  }

  private repository(image: string): ecr.IRepository {
    let repository = this.byName.get(image);
    if (!repository) {
      repository = ecr.Repository.fromRepositoryName(
        this.scope,
        `Repository-${image}`,
        repositoryName(this.platformName, image),
      );
      this.byName.set(image, repository);
    }
    return repository;
  }
}
