import { CfnDynamicReference, CfnDynamicReferenceService } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import {
  type ImageWiring,
  repositoryName,
  type TaskWiring,
  WiringInvariantError,
} from '../../wiring/index.ts';

/**
 * The images task definitions start from: for a Dockerfile-built image, the reference its last
 * release recorded in its SSM parameter (the wiring's `releaseParameter`), resolved by CloudFormation
 * whenever it registers a task definition; a declared registry image as is. The template holds only
 * the parameter's name, so a release changes nothing in it, and an infrastructure change that
 * registers a new revision starts it from the released images, never from older ones.
 *
 * Repositories are the bootstrap stack's, addressed by their contract names (no cross-stack export,
 * so either stack can be deleted and deployed again on its own).
 */
export class RegistryImages {
  private readonly byName = new Map<string, ecr.IRepository>();

  constructor(
    private readonly scope: Construct,
    private readonly platformName: string,
    private readonly tasks: readonly TaskWiring[],
    private readonly images: readonly ImageWiring[],
  ) {}

  /** Repositories referenced so far, by image name. */
  get repositories(): ReadonlyMap<string, ecr.IRepository> {
    return this.byName;
  }

  image(image: string): ecs.ContainerImage {
    const task = this.tasks.find((t) => t.service === image);
    if (task?.image.kind === 'registry') return ecs.ContainerImage.fromRegistry(task.image.uri);
    const wiring = this.images.find((i) => i.name === image);
    if (!wiring)
      throw new WiringInvariantError(this.scope.node.path, `the wiring builds no image '${image}'`);
    return new ReleasedImage(this.repository(image), wiring.releaseParameter);
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

/** An ECR image named by its release parameter; the execution role may pull from its repository. */
class ReleasedImage extends ecs.ContainerImage {
  constructor(
    private readonly repository: ecr.IRepository,
    private readonly parameterName: string,
  ) {
    super();
  }

  bind(_scope: Construct, container: ecs.ContainerDefinition): ecs.ContainerImageConfig {
    this.repository.grantPull(container.taskDefinition.obtainExecutionRole());
    return {
      imageName: new CfnDynamicReference(CfnDynamicReferenceService.SSM, this.parameterName).toString(),
    };
  }
}
