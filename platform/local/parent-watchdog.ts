/**
 * Preloaded into every child (`node --import`): when the supervisor disappears, the child is re-parented
 * and its `process.ppid` changes; it then stops itself. So a supervisor killed with SIGKILL (which it
 * cannot trap) still leaves no orphans. Linux's PR_SET_PDEATHSIG would do this natively but is not
 * reachable from Node. Comparing the parent id (not probing a pid) is immune to pid reuse.
 */
const parent = process.ppid;
if (process.env.LOCAL_SUPERVISOR_PID === String(parent)) {
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      process.kill(process.pid, 'SIGTERM');
      setTimeout(() => process.exit(1), 3000).unref();
    }
  }, 500);
  timer.unref();
}

export {};
