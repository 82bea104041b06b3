import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ImageWiring } from '../../wiring/index.ts';
import { Registry } from '../constructs/registry.ts';

/** Props of {@link RegistryStack}. */
export interface RegistryStackProps extends StackProps {
  readonly platformName: string;
  /** The wiring's images (`wirePlatform(manifest).images`). */
  readonly images: readonly ImageWiring[];
}

/**
 * The bootstrap stage: the ECR repositories the platform's task definitions pull from. Deployed, and
 * the images pushed, before the platform stack, so no stack ever starts a task from an empty
 * repository. The platform stack finds the repositories by name (no export), so either stack can be
 * deleted and deployed again on its own.
 */
export class RegistryStack extends Stack {
  readonly registry: Registry;

  constructor(scope: Construct, id: string, props: RegistryStackProps) {
    super(scope, id, props);
    this.registry = new Registry(this, 'Registry', {
      platformName: props.platformName,
      images: props.images,
    });
    new CfnOutput(this, 'RepositoryPrefix', {
      description: 'vars.ECR_REPOSITORY_PREFIX of the deploy workflow',
      value: `${props.platformName}/`,
    });
  }
}
