import { App, type Environment } from 'aws-cdk-lib';
import type { PlatformWiring, StackStage } from '../wiring/index.ts';
import { BootstrapStack } from './stacks/bootstrap-stack.ts';
import { PlatformStack } from './stacks/platform-stack.ts';
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

/** The stacks' names by the wiring's stages (`<platform>-bootstrap`, `<platform>-platform`). */
export function stackNames(platformName: string): Readonly<Record<StackStage, string>> {
  return { bootstrap: `${platformName}-bootstrap`, platform: `${platformName}-platform` };
}

/**
 * The CDK app: the bootstrap stack (the stage a person deploys once: image repositories, release
 * records, GitHub's delivery roles), the {@link PlatformStack} that runs from them, and the policy gate.
 */
export function createPlatformApp(options: PlatformAppOptions): {
  app: App;
  stack: PlatformStack;
  bootstrapStack: BootstrapStack;
} {
  const { wiring } = options;
  const app = new App({ outdir: options.outdir, context: { ...options.context } });
  const names = stackNames(wiring.platform);
  const bootstrapStack = new BootstrapStack(app, names.bootstrap, {
    wiring,
    env: options.env,
    description: `${wiring.platform}: bootstrap stage (image repositories, release records, GitHub delivery roles), deployed before the platform`,
  });
  const stack = new PlatformStack(app, names.platform, {
    wiring,
    ...(options.modelRoot ? { rootDir: options.modelRoot } : {}),
    env: options.env,
    description: `${wiring.platform}: ECS on EC2 platform (network, capacity, edge, services, inference, monitoring, remediation, delivery)`,
  });
  if (options.validate ?? true) addPolicyValidation(app);
  return { app, stack, bootstrapStack };
}
