import { readdirSync, readFileSync } from 'node:fs';

/**
 * Process-table reads from Linux `/proc`, for the benchmark (RSS of the whole platform) and the
 * end-to-end test (no process left behind).
 */

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly state: string;
  /** Start time in clock ticks since boot: with the pid, it names one process even across pid reuse. */
  readonly startTime: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces; fields after it are positional.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // Field 22 of stat (starttime) is index 19 after the command name.
    return {
      pid,
      state: rest[0]!,
      ppid: Number(rest[1]),
      pgid: Number(rest[2]),
      startTime: Number(rest[19]),
    };
  } catch {
    return undefined;
  }
}

function allStats(): ProcStat[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => readStat(Number(entry)))
    .filter((s): s is ProcStat => s !== undefined);
}

/** `root` and every descendant of it, by parent links (crossing process groups and sessions). */
export function processTree(root: number): number[] {
  const stats = allStats();
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (!stats.some((s) => s.pid === pid)) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** One process, named so that a reused pid is not mistaken for it. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: number;
}

/**
 * Every live descendant of `root` (not `root` itself), whatever group or session it moved to: a
 * grandchild that called setsid() leaves its parent's process group, so a group signal misses it.
 */
export function descendantsOf(root: number): ProcessIdentity[] {
  const stats = allStats();
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out: ProcessIdentity[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const s = queue.shift()!;
    if (s.state !== 'Z') out.push({ pid: s.pid, startTime: s.startTime });
    queue.push(...(children.get(s.pid) ?? []));
  }
  return out;
}

/** Whether the process `identity` names is still alive (same pid, same start time, not a zombie). */
export function isSameProcessAlive(identity: ProcessIdentity): boolean {
  const stat = readStat(identity.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTime === identity.startTime;
}

/** Resident set size of one process in bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Live (non-zombie) members of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  return allStats()
    .filter((s) => s.pgid === pgid && s.state !== 'Z')
    .map((s) => s.pid);
}

/** Whether `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}
