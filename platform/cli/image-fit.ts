import { APP_USER, CONTAINER_NAMES, type ContainerWiring, type PlatformWiring } from '../wiring/index.ts';

/**
 * Whether synth can know a declared image fits the platform's hardened defaults (read-only root
 * filesystem, a non-root user, the declared port). A Dockerfile is the team's own; a registry image is
 * opaque, so it must declare something of how it runs. `synth` warns with these lines, `preflight`
 * refuses with them (exit 2).
 */
export function unfitImages(wiring: PlatformWiring): string[] {
  const workloads = [
    ...wiring.tasks.map((t) => ({ path: t.path, image: t.image, port: appPort(t.containers) })),
    ...wiring.jobs.map((j) => ({ path: j.path, image: j.image, port: null })),
  ];
  const lines: string[] = [];
  for (const { path, image, port } of workloads) {
    if (image.kind !== 'registry' || image.run !== undefined) continue;
    const listening = port === null ? '' : `, listening on PORT=${port}`;
    const example = `{ user: '${APP_USER}'${port === null ? '' : `, port: ${port}`}, writablePaths: ['/tmp'] }`;
    lines.push(
      `${path}: image '${image.uri}' is a registry image that declares nothing of how it runs, so synth cannot know it fits the platform's defaults (read-only root filesystem, user ${APP_USER}${listening}). ` +
        `Fix: declare what it needs, e.g. Image.fromRegistry('${image.uri}', ${example}) (command, entrypoint, user, port, writablePaths).`,
    );
  }
  return lines;
}

/** The port the app container listens on; null for a worker's, which listens on none. */
const appPort = (containers: readonly ContainerWiring[]) =>
  containers.find((c) => c.name === CONTAINER_NAMES.app)?.port?.number ?? null;
