import { type ChildProcess, spawn } from 'node:child_process';

/** How long the groups have between SIGTERM and SIGKILL once their supervisor is gone. */
const STOP_GRACE_SECONDS = 3;

/**
 * Stops every supervised process group once this process is gone, however it went. A node child stops
 * itself (the parent watchdog), but a host command (a team's Python service, a shell) cannot be given
 * one, and a supervisor killed with SIGKILL cannot stop it. So one small shell per supervising process
 * holds a pipe from it: the groups are written to the pipe as they start (`+PGID`) and end (`-PGID`),
 * and the end of input (the kernel closes the pipe when its writer dies) stops those still listed,
 * SIGTERM then SIGKILL, as the supervisor itself would. The shell is in a group of its own, so a
 * Ctrl-C in the terminal reaches only the supervisor, which stops its children in order first.
 */
const REAPER = `
groups=" "
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) groups=$(printf '%s' "$groups" | sed "s/ \${line#-} / /") ;;
  esac
done
[ -z "$(printf '%s' "$groups" | tr -d ' ')" ] && exit 0
for group in $groups; do kill -s TERM -- "-$group" 2>/dev/null; done
sleep ${STOP_GRACE_SECONDS}
for group in $groups; do kill -s KILL -- "-$group" 2>/dev/null; done
`;

const watched = new Set<number>();
let reaper: ChildProcess | undefined;

/** Lists a process group to be stopped if this process dies without stopping it. */
export function reapOnExit(group: number): void {
  watched.add(group);
  tell(`+${group}`);
}

/** Takes a group off the list: it has ended, or this process stopped it. */
export function forgetGroup(group: number): void {
  if (watched.delete(group)) tell(`-${group}`);
}

function tell(line: string): void {
  let text = line;
  if (!reaper) {
    // The first reaper, or one that was killed: it is given the whole list, not just this change.
    reaper = startReaper();
    text = [...watched].map((group) => `+${group}`).join('\n');
    if (!text) return;
  }
  reaper.stdin?.write(`${text}\n`);
}

function startReaper(): ChildProcess {
  const child = spawn('/bin/sh', ['-c', REAPER], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Neither the shell nor its pipe keeps this process alive: the reaper only matters once it has ended.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.stdin?.on('error', () => {});
  child.once('error', () => {});
  child.once('exit', () => {
    if (reaper === child) reaper = undefined;
  });
  return child;
}
