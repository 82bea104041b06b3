import { App, type Environment } from 'aws-cdk-lib';
import type { Manifest } from '../../config/index.ts';
import { wirePlatform } from '../wiring/index.ts';
import { PlatformStack } from './stacks/platform-stack.ts';
import { RegistryStack } from './stacks/registry-stack.ts';
import { addPolicyValidation } from './validation.ts';

/** The platform manifest's file name inside the cloud assembly directory. */
export const PLATFORM_MANIFEST_FILE = 'platform-manifest.json';

/** Inputs of {@link createPlatformApp}; `main.ts` reads them from the environment, tests pass them. */
export interface PlatformAppOptions {
  readonly manifest: Manifest;
  /** Cloud assembly directory. */
  readonly outdir: string;
  /** Deployment environment; leave `account` undefined for an account-free synth. */
  readonly env: Environment;
  /** Initial image tag of every Dockerfile-built image. */
  readonly imageTag: string;
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
  const app = new App({ outdir: options.outdir, context: { ...options.context } });
  const names = stackNames(options.manifest.platform.name);
  const registryStack = new RegistryStack(app, names.registry, {
    platformName: options.manifest.platform.name,
    images: wirePlatform(options.manifest).images,
    env: options.env,
    description: `${options.manifest.platform.name}: image repositories (deployed, and pushed to, before the platform)`,
  });
  const stack = new PlatformStack(app, names.platform, {
    manifest: options.manifest,
    imageTag: options.imageTag,
    env: options.env,
    description: `${options.manifest.platform.name}: ECS on EC2 platform (network, capacity, edge, services, inference, monitoring, remediation, delivery)`,
  });
  if (options.validate ?? true) addPolicyValidation(app);
  return { app, stack, registryStack };
}
