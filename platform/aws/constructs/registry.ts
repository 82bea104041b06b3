import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { repositoryName, WiringInvariantError } from '../../wiring/index.ts';

/** One image this repository builds from a Dockerfile. */
export interface ImageRepositorySpec {
  /** Image name, e.g. `backend`, `anomaly-sidecar`, `log-anomaly`; the repository is `<platform>/<name>`. */
  readonly name: string;
  /** The Dockerfile that builds it (documentation for the delivery pipeline). */
  readonly dockerfile: string;
}

/** Props of {@link Registry}. */
export interface RegistryProps {
  readonly platformName: string;
  readonly images: readonly ImageRepositorySpec[];
  /**
   * Tagged images kept per repository; older ones expire.
   * @default 50
   */
  readonly maxTaggedImages?: number;
  /**
   * Days an untagged image (a superseded manifest, a failed push) is kept.
   * @default 7
   */
  readonly untaggedImageDays?: number;
}

/**
 * ECR repositories, one per Dockerfile-built image: scanned on push, immutable tags (a deployed tag
 * always means the same bytes, which is what makes rollbacks exact), encrypted, expiring old images,
 * and removed with their images when the registry stack is deleted (they are rebuilt from git).
 *
 * @example
 * const registry = new Registry(stack, 'Registry', { platformName: 'acme', images: [{ name: 'backend', dockerfile: 'Dockerfile.backend' }] });
 * registry.repository('backend').repositoryUri;
 */
export class Registry extends Construct {
  private readonly repositories = new Map<string, ecr.Repository>();

  constructor(scope: Construct, id: string, props: RegistryProps) {
    super(scope, id);
    const maxTaggedImages = props.maxTaggedImages ?? 50;
    const untaggedImageDays = props.untaggedImageDays ?? 7;
    for (const image of props.images) {
      if (this.repositories.has(image.name)) {
        throw new WiringInvariantError(this.node.path, `image '${image.name}' is listed twice`);
      }
      const repository = new ecr.Repository(this, image.name, {
        repositoryName: repositoryName(props.platformName, image.name),
        imageScanOnPush: true,
        imageTagMutability: ecr.TagMutability.IMMUTABLE,
        encryption: ecr.RepositoryEncryption.AES_256,
        // Images are rebuilt from git; a deleted registry stack must not leave fixed-name repositories
        // behind that make the next deploy fail with "already exists".
        removalPolicy: RemovalPolicy.DESTROY,
        emptyOnDelete: true,
        lifecycleRules: [
          {
            rulePriority: 1,
            tagStatus: ecr.TagStatus.UNTAGGED,
            maxImageAge: Duration.days(untaggedImageDays),
          },
          { rulePriority: 2, tagStatus: ecr.TagStatus.ANY, maxImageCount: maxTaggedImages },
        ],
      });
      this.repositories.set(image.name, repository);
    }
  }

  /** The repository of image `name`; throws naming the known images when there is none. */
  repository(name: string): ecr.Repository {
    const repository = this.repositories.get(name);
    if (!repository) {
      throw new WiringInvariantError(
        this.node.path,
        `no repository for image '${name}' (images: ${[...this.repositories.keys()].join(', ')})`,
      );
    }
    return repository;
  }

  /** Every repository by image name (a copy). */
  get all(): ReadonlyMap<string, ecr.Repository> {
    return new Map(this.repositories);
  }
}
