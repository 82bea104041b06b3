import type { ChildProcess } from 'node:child_process';

/**
 * What `images:verify` does with every started container, application or log router: stop its
 * process group, then list what it wrote to its root filesystem.
 */

type Run = (cmd: string, args: string[], options?: { quiet?: boolean }) => string;

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
