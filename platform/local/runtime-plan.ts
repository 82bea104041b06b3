import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import type { PlatformWiring } from '../wiring/index.ts';
import { type LocalParts, type LocalPlan, planLocalRun, portsNeeded } from './plan.ts';
import { pickFreePorts } from './ports.ts';
import { StartError } from './readiness.ts';
import { onPath, RunnerError } from './runners.ts';
import { stateFilesBeside } from './runtime-state.ts';

/** What one run's plan is made from. */
export interface RuntimePlanOptions {
  readonly root: string;
  /** The package's folder (its sidecar, Lambda host, model). @default - root */
  readonly packageRoot?: string;
  /** The model server's port, already known to be free. */
  readonly modelPort: number;
  readonly parts?: LocalParts;
  readonly secretValues?: Readonly<Record<string, string>>;
  /** The runtime state file; the console's state files go beside it. */
  readonly stateFile?: string;
}

/**
 * The run's plan on freshly picked loopback ports, with every entry point it names present on disk:
 * a plan that cannot run is a {@link StartError} before anything starts.
 */
export async function planRuntime(wiring: PlatformWiring, options: RuntimePlanOptions): Promise<LocalPlan> {
  const internalPorts = await pickFreePorts(portsNeeded(wiring));
  const plan = planOrStartError(() =>
    planLocalRun(wiring, {
      root: options.root,
      ...(options.packageRoot ? { packageRoot: options.packageRoot } : {}),
      modelPort: options.modelPort,
      internalPorts,
      ...(options.parts ? { parts: options.parts } : {}),
      ...(options.secretValues ? { secretValues: options.secretValues } : {}),
      ...(options.stateFile ? { stateFiles: stateFilesBeside(options.stateFile) } : {}),
    }),
  );
  // A scheduled job's run starts as a process does: its entry or its program checked the same way.
  const jobRuns = plan.jobs.map((job) => ({
    label: job.job,
    job: true,
    ...(job.run.kind === 'node' ? { entry: job.run.entry } : {}),
    ...(job.run.kind === 'command' ? { command: job.run } : {}),
  }));
  for (const p of [...plan.processes, ...jobRuns]) {
    if (p.entry !== undefined && !existsSync(p.entry)) {
      const shown = relative(options.root, p.entry);
      throw new StartError(
        `${p.label}: entry point ${shown.startsWith('..') ? p.entry : shown} does not exist in ${options.root}. Fix: correct the entry in the declaration (relative to the repository), or build that part first`,
      );
    }
    if (p.command && onPath(p.command.program, p.command.cwd) === undefined) {
      throw new RunnerError(
        `${p.label}: ${p.command.program} is not installed here (not on PATH, run from ${p.command.cwd}). ` +
          `Fix: install it${'job' in p ? '' : ', or declare local: { command: [...] } with a program this machine has'}.`,
      );
    }
  }
  const handlerFile = plan.processes.find((p) => p.role === 'function')?.env.LAMBDA_HANDLER?.split('#')[0];
  if (handlerFile && !existsSync(handlerFile)) {
    throw new StartError(`predict: handler ${handlerFile} does not exist (is functions/predict built yet?)`);
  }
  return plan;
}

function planOrStartError(plan: () => LocalPlan): LocalPlan {
  try {
    return plan();
  } catch (error) {
    if (error instanceof RunnerError) throw error;
    throw new StartError((error as Error).message);
  }
}
