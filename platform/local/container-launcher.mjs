// Runs one container launch (container-runners.ts `ContainerLaunch`, JSON in argv[2]) as a supervised
// service process: removes a stale container of the same name, prepares (build, working container,
// variables), runs the container in the foreground with its output as this process's, and removes it
// again however it ends. Plain ESM so that no loader is paid for a process that only waits.
import { spawn, spawnSync } from 'node:child_process';

const launch = JSON.parse(process.argv[2] ?? '{}');

/** A launch argument: literal, or `flag NAME=value` of this process's variable (nothing when it is unset). */
const argOf = (arg) => {
  if (typeof arg === 'string') return [arg];
  const value = process.env[arg.env];
  return value === undefined ? [] : [arg.flag, `${arg.env}=${value}`];
};
const argv = (step) => step.flatMap(argOf);

function cleanup() {
  for (const step of launch.cleanup ?? []) {
    const [program, ...args] = argv(step);
    spawnSync(program, args, { stdio: 'ignore', timeout: 30_000 });
  }
}

cleanup();
for (const step of launch.prepare ?? []) {
  const [program, ...args] = argv(step);
  const result = spawnSync(program, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) {
    console.error(
      `container: ${program} ${args.slice(0, 2).join(' ')} … failed (${result.error?.message ?? `exit ${result.status}`})`,
    );
    cleanup();
    process.exit(1);
  }
}

const [program, ...args] = argv(launch.run);
const child = spawn(program, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const stop = (signal) => {
  stopping = true;
  // The supervisor signals the whole group; a signal sent to this process alone is passed on.
  if (child.exitCode === null) child.kill(signal);
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
// The supervisor killed with SIGKILL cannot stop us: stop the container when it is gone.
const supervisor = Number(process.env.LOCAL_SUPERVISOR_PID);
if (supervisor > 0) {
  setInterval(() => {
    try {
      process.kill(supervisor, 0);
    } catch {
      stop('SIGTERM');
    }
  }, 1000).unref();
}
child.on('error', (error) => {
  console.error(`container: ${program} could not start: ${error.message}`);
  cleanup();
  process.exit(1);
});
child.on('exit', (code, signal) => {
  cleanup();
  process.exit(code ?? (stopping ? 0 : signal === 'SIGKILL' ? 137 : 143));
});
