/**
 * Choices that carry data, as classes with static factories (STYLE.md): an image to run and a secret
 * to inject. Their manifest form is plain JSON, so renderers never see these classes.
 */

/** How a container image is obtained, in manifest form. */
export type ImageSpec =
  | { readonly kind: 'dockerfile'; readonly dockerfile: string; readonly entry: string }
  | { readonly kind: 'registry'; readonly uri: string };

/** Options for {@link Image.fromDockerfile}. */
export interface DockerfileImageOptions {
  /**
   * The TypeScript entry point the Dockerfile bundles. The local runtime runs it directly (as ECS runs
   * the image), so both paths start the same code.
   */
  readonly entry: string;
}

/** The image a service runs. */
export class Image {
  /**
   * An image built from a Dockerfile in this repository; pushed to the service's ECR repository.
   *
   * @example
   * Image.fromDockerfile('Dockerfile.backend', { entry: 'services/backend/main.ts' })
   */
  static fromDockerfile(dockerfile: string, options: DockerfileImageOptions): Image {
    return new Image({ kind: 'dockerfile', dockerfile, entry: options.entry });
  }

  /** A prebuilt image by URI (pin a digest for reproducible deploys). Not runnable by the local runtime. */
  static fromRegistry(uri: string): Image {
    return new Image({ kind: 'registry', uri });
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
