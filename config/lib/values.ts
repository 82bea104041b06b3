/**
 * Choices that carry data, as classes with static factories (STYLE.md): an image to run and a secret
 * to inject. Their manifest form is plain JSON, so renderers never see these classes.
 */

/** How a container image is obtained, in manifest form. */
export type ImageSpec =
  | {
      readonly kind: 'dockerfile';
      readonly dockerfile: string;
      /** The build context, relative to the repository. */
      readonly context: string;
      /** A TypeScript or JavaScript entry the local runtime starts directly; null: it runs what the image runs. */
      readonly entry: string | null;
      /** `platform`: the Dockerfile, context and entry are this package's own (the console's), not the team's. */
      readonly source?: 'platform';
      /** What the declaration says of how the image runs; absent: the image's own settings. */
      readonly run?: ImageRunSpec;
    }
  | { readonly kind: 'registry'; readonly uri: string; readonly run?: ImageRunSpec };

/** How an image runs, as declared (manifest form); null or empty: the image's own. */
export interface ImageRunSpec {
  readonly command: readonly string[] | null;
  readonly entrypoint: readonly string[] | null;
  readonly user: string | null;
  readonly port: number | null;
  readonly writablePaths: readonly string[];
}

/**
 * How an image runs on the platform's hardened defaults (read-only root filesystem, a non-root user,
 * the declared port). A registry image declares what it needs here; synth cannot look inside it.
 */
export interface ImageRunOptions {
  /** Replaces the image's CMD. @default - the image's */
  readonly command?: readonly string[];
  /** Replaces the image's ENTRYPOINT (and, as Docker and ECS do, drops its CMD). @default - the image's */
  readonly entrypoint?: readonly string[];
  /** The non-root user (`uid`, `uid:gid` or a name the image has). @default - '1000:1000' */
  readonly user?: string;
  /**
   * The port the image listens on whatever PORT says (a fixed port); the service's `port` must be it.
   * @default - none: the image listens on PORT
   */
  readonly port?: number;
  /** Absolute paths the image writes to, each an in-memory tmpfs (the root filesystem stays read-only). @default [] */
  readonly writablePaths?: readonly string[];
}

/** The manifest form of declared run options; undefined when none is declared. */
function runSpec(options: ImageRunOptions): ImageRunSpec | undefined {
  const declared =
    options.command !== undefined ||
    options.entrypoint !== undefined ||
    options.user !== undefined ||
    options.port !== undefined ||
    options.writablePaths !== undefined;
  if (!declared) return undefined;
  return {
    command: options.command ? [...options.command] : null,
    entrypoint: options.entrypoint ? [...options.entrypoint] : null,
    user: options.user ?? null,
    port: options.port ?? null,
    writablePaths: [...(options.writablePaths ?? [])],
  };
}

/** Options for {@link Image.fromDockerfile}. */
export interface DockerfileImageOptions extends ImageRunOptions {
  /**
   * The TypeScript or JavaScript entry point the Dockerfile bundles. The local runtime runs it directly
   * (its fast path, as ECS runs the image), so both paths start the same code.
   * @default - none: locally the service runs its declared `local.command`, else the Dockerfile's own
   * ENTRYPOINT/CMD
   */
  readonly entry?: string;
  /**
   * The build context, relative to the repository.
   * @default - the Dockerfile's folder
   */
  readonly context?: string;
}

/** The image a service runs. */
export class Image {
  /**
   * An image built from a Dockerfile in the team's repository (paths relative to it); pushed to the
   * service's ECR repository.
   *
   * @example
   * Image.fromDockerfile('Dockerfile.backend', { entry: 'services/backend/main.ts' })
   * Image.fromDockerfile('pyapi/Dockerfile') // context pyapi/, runs the Dockerfile's CMD locally
   */
  static fromDockerfile(dockerfile: string, options: DockerfileImageOptions = {}): Image {
    const folder = dockerfile.includes('/') ? dockerfile.slice(0, dockerfile.lastIndexOf('/')) : '.';
    const run = runSpec(options);
    return new Image({
      kind: 'dockerfile',
      dockerfile,
      context: options.context ?? folder,
      entry: options.entry ?? null,
      ...(run ? { run } : {}),
    });
  }

  /**
   * An image this package ships (the operations console's): its Dockerfile, context and entry are
   * relative to the installed package, not to the team's repository.
   */
  static fromPlatform(dockerfile: string, entry: string): Image {
    return new Image({ kind: 'dockerfile', dockerfile, context: '.', entry, source: 'platform' });
  }

  /**
   * A prebuilt image by URI (pin a digest for reproducible deploys), with what it needs to run on the
   * platform's hardened defaults (synth warns when nothing is declared: it cannot look inside).
   *
   * @example
   * Image.fromRegistry('ghcr.io/acme/echo:1', { port: 5678, user: '65534', writablePaths: ['/tmp'] })
   */
  static fromRegistry(uri: string, options: ImageRunOptions = {}): Image {
    const run = runSpec(options);
    return new Image({ kind: 'registry', uri, ...(run ? { run } : {}) });
  }

  private constructor(readonly spec: ImageSpec) {}
}

/** Where a secret's value lives, in manifest form: a reference, never the value. */
export type SecretSpec =
  | { readonly source: 'secretsmanager'; readonly secretName: string; readonly field?: string }
  | { readonly source: 'ssm'; readonly parameterName: string };

/** A secret injected into a container at start by ECS, never written into the task definition. */
export class Secret {
  /**
   * A Secrets Manager secret, optionally one JSON field of it.
   *
   * @example
   * Secret.fromSecretsManager('acme/backend/db', { field: 'password' })
   */
  static fromSecretsManager(secretName: string, options: { readonly field?: string } = {}): Secret {
    return new Secret(
      options.field === undefined
        ? { source: 'secretsmanager', secretName }
        : { source: 'secretsmanager', secretName, field: options.field },
    );
  }

  /** A SecureString parameter in SSM Parameter Store. */
  static fromSsmParameter(parameterName: string): Secret {
    return new Secret({ source: 'ssm', parameterName });
  }

  private constructor(readonly spec: SecretSpec) {}
}
