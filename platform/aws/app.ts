import { App, type Environment } from 'aws-cdk-lib';
import type { PlatformWiring } from '../wiring/index.ts';
import { PlatformStack } from './stacks/platform-stack.ts';
import { RegistryStack } from './stacks/registry-stack.ts';
import { addPolicyValidation } from './validation.ts';

/** The platform manifest's file name inside the cloud assembly directory. */
export const PLATFORM_MANIFEST_FILE = 'platform-manifest.json';

/** Inputs of {@link createPlatformApp}; the CLI's `synth` reads them from the environment, tests pass them. */
export interface PlatformAppOptions {
  /** The platform's wiring, derived once by the CLI. */
  readonly wiring: PlatformWiring;
  /** Cloud assembly directory. */
  readonly outdir: string;
  /** Deployment environment; leave `account` undefined for an account-free synth. */
  readonly env: Environment;
  /** Initial image tag of every Dockerfile-built image. */
  readonly imageTag: string;
  /**
   * The folder the model endpoint's Dockerfile and artifacts are relative to (the CLI decides: the
   * package for the model it ships, the team's repository for its own).
   * @default - this package's folder
   */
  readonly modelRoot?: string;
  /**
   * Run cdk-nag and cfn-guard during synth.
   * @default true
   */
  readonly validate?: boolean;
  /** Extra context, e.g. `{ '@aws-cdk/core:appMode': 'inmemory' }` in tests. */
  readonly context?: Readonly<Record<string, unknown>>;
}

/** The stacks' names, in deploy order (the README's and the workflow's steps follow it). */
export function stackNames(platformName: string): { readonly registry: string; readonly platform: string } {
  return { registry: `${platformName}-registry`, platform: `${platformName}-platform` };
}

/**
 * The CDK app: the registry stack (bootstrap stage: the image repositories), the
 * {@link PlatformStack} that runs from them, and the policy gate.
 */
export function createPlatformApp(options: PlatformAppOptions): {
  app: App;
  stack: PlatformStack;
  registryStack: RegistryStack;
} {
  const { wiring } = options;
  const app = new App({ outdir: options.outdir, context: { ...options.context } });
  const names = stackNames(wiring.platform);
  const registryStack = new RegistryStack(app, names.registry, {
    platformName: wiring.platform,
    images: wiring.images,
    env: options.env,
    description: `${wiring.platform}: image repositories (deployed, and pushed to, before the platform)`,
  });
  const stack = new PlatformStack(app, names.platform, {
    wiring,
    imageTag: options.imageTag,
    ...(options.modelRoot ? { rootDir: options.modelRoot } : {}),
    env: options.env,
    description: `${wiring.platform}: ECS on EC2 platform (network, capacity, edge, services, inference, monitoring, remediation, delivery)`,
  });
  if (options.validate ?? true) addPolicyValidation(app);
  return { app, stack, registryStack };
}
