import { App, type Environment } from 'aws-cdk-lib';
import type { Manifest } from '../../config/index.ts';
import { PlatformStack } from './stacks/platform-stack.ts';
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

/** The CDK app: one {@link PlatformStack} named after the platform, plus the policy gate. */
export function createPlatformApp(options: PlatformAppOptions): { app: App; stack: PlatformStack } {
  const app = new App({ outdir: options.outdir, context: { ...options.context } });
  const stack = new PlatformStack(app, `${options.manifest.platform.name}-platform`, {
    manifest: options.manifest,
    imageTag: options.imageTag,
    env: options.env,
    description: `${options.manifest.platform.name}: ECS on EC2 platform (network, capacity, edge, services, inference, monitoring, remediation, delivery)`,
  });
  if (options.validate ?? true) addPolicyValidation(app);
  return { app, stack };
}
