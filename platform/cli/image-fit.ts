import type { Manifest } from '../../config/index.ts';
import { APP_USER } from '../wiring/index.ts';

/**
 * Whether synth can know a declared image fits the platform's hardened defaults (read-only root
 * filesystem, a non-root user, the declared port). A Dockerfile is the team's own; a registry image is
 * opaque, so it must declare something of how it runs. `synth` warns with these lines, `preflight`
 * refuses with them (exit 2).
 */
export function unfitImages(manifest: Manifest): string[] {
  const workloads = [
    ...manifest.services.map((s) => ({ ...s, port: s.port as number | null })),
    ...manifest.workers.map((w) => ({ ...w, port: null })),
    ...manifest.jobs.map((j) => ({ ...j, port: null })),
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
