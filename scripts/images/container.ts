import { type ChildProcess, spawnSync } from 'node:child_process';

/**
 * What `images:verify` does with every started container, application or log router: stop its
 * process group, then list what it wrote to its root filesystem.
 */

type Run = (cmd: string, args: string[], options?: { quiet?: boolean }) => string;

/** The parts of a check's result a finished container fills in. */
interface ContainerOutcome {
  writes?: string[];
  error?: string;
  ok: boolean;
}

/** SIGTERM to the container's process group, SIGKILL after `graceMs` if it is still there. */
export async function stopContainer(child: ChildProcess, graceMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  await new Promise((r) => setTimeout(r, graceMs));
  if (child.exitCode === null) signal('SIGKILL');
}

/**
 * Files written under `mnt` since `marker`: anything there would fail under readonlyRootFilesystem.
 * buildah itself creates the mount points of /etc/hosts, /etc/resolv.conf, /etc/hostname, /run/.containerenv.
 */
export function rootfsWrites(run: Run, mnt: string, marker: string): string[] {
  return run('find', [mnt, '-xdev', '-newer', marker, '-not', '-type', 'd'], { quiet: true })
    .split('\n')
    .filter(Boolean)
    .map((p) => p.slice(mnt.length))
    .filter((p) => !['/etc/hosts', '/etc/resolv.conf', '/etc/hostname', '/run/.containerenv'].includes(p));
}

/**
 * After the container stopped: records its root-filesystem writes (a failure if any), removes the
 * working container and settles `result.ok`.
 */
export function finishContainer<T extends ContainerOutcome>(
  run: Run,
  result: T,
  container: { readonly ctr: string; readonly mnt: string; readonly marker: string },
): T {
  const written = rootfsWrites(run, container.mnt, container.marker);
  spawnSync('buildah', ['rm', container.ctr], { stdio: 'ignore' });
  result.writes = written;
  if (written.length > 0 && !result.error) {
    result.error = `wrote to its root filesystem: ${written.slice(0, 5).join(', ')}`;
  }
  result.ok = result.error === undefined;
  return result;
}
