import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT_CODES, type ExitCode } from './args.ts';

/**
 * `npm run deploy -- --local --service NAME [--env KEY=VALUE]…`: the same deployment rehearsed against
 * a running `npm start`. The runtime's control endpoint and its token are read from the runtime's
 * owner-only state file; progress lines are printed as they happen; exit codes as on AWS (0 completed,
 * 1 rolled back or failed, 2 usage, 124 timeout).
 */

export const LOCAL_USAGE = `Usage: npm run deploy -- --local --service NAME [--env KEY=VALUE]... [--timeout DURATION]

Rehearses a deployment of NAME on the platform \`npm start\` runs: its new revision starts beside the
old one, traffic shifts as the service's declared strategy says, and at every stage the deployment gate
compares the new revision with the old one (probing it when it has too little traffic), as the declared
rollback alarms watch it; it completes or rolls back. --env KEY=VALUE sets a variable on the new
revision's app and --env KEY= unsets a declared one; each release starts from the declared environment.

Exit codes: 0 completed, 1 rolled back or failed, 2 usage error, 124 timed out.
Environment: LOCAL_STATE_FILE (default .local/runtime.json)`;

export interface LocalDeployDeps {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly stateFile: string;
}

interface Outcome {
  readonly status: 'completed' | 'rolled-back' | 'failed';
  readonly reason?: string;
}

export async function runLocalDeploy(argv: readonly string[], deps: LocalDeployDeps): Promise<ExitCode> {
  let options: { service: string; env: Record<string, string>; timeoutMs: number };
  try {
    const { values } = parseArgs({
      args: argv.filter((a) => a !== 'deploy'),
      strict: true,
      options: {
        local: { type: 'boolean' },
        service: { type: 'string' },
        env: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      deps.out(LOCAL_USAGE);
      return EXIT_CODES.ok;
    }
    if (!values.service) throw new Error('--service NAME is required with --local');
    const env: Record<string, string> = {};
    for (const pair of values.env ?? []) {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
      if (!match) throw new Error(`--env '${pair}' is not KEY=VALUE`);
      env[match[1]!] = match[2]!;
    }
    const timeout = /^(\d+)(s|m)?$/.exec(values.timeout ?? '10m');
    if (!timeout) throw new Error(`--timeout '${values.timeout}' is not a duration such as 90s or 10m`);
    const timeoutMs = Number(timeout[1]) * (timeout[2] === 'm' ? 60_000 : 1000);
    options = { service: values.service, env, timeoutMs };
  } catch (error) {
    deps.err(`deploy: ${(error as Error).message}`);
    deps.err(LOCAL_USAGE);
    return EXIT_CODES.usage;
  }

  let control: { url: string; token: string };
  try {
    const state = JSON.parse(readFileSync(resolve(deps.stateFile), 'utf8')) as {
      control?: { url: string; token: string } | null;
    };
    if (!state.control) throw new Error('it names no control endpoint');
    control = state.control;
  } catch (error) {
    deps.err(
      `deploy: no running platform found (${deps.stateFile}: ${(error as Error).message}). Start it with npm start.`,
    );
    return EXIT_CODES.failed;
  }
  const headers = { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' };
  let id: string;
  try {
    const response = await fetch(`${control.url}/deployments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ service: options.service, env: options.env }),
    });
    const body = (await response.json()) as { id?: string; error?: { message: string } };
    if (!response.ok || !body.id) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
    id = body.id;
  } catch (error) {
    deps.err(`deploy: the platform refused the deployment: ${(error as Error).message}`);
    return EXIT_CODES.failed;
  }

  const deadline = deps.now() + options.timeoutMs;
  let after = 0;
  while (deps.now() < deadline) {
    const response = await fetch(`${control.url}/deployments/${id}?after=${after}`, { headers });
    const body = (await response.json()) as { lines: string[]; next: number; outcome: Outcome | null };
    for (const line of body.lines) deps.out(line);
    after = body.next;
    if (body.outcome) {
      if (body.outcome.status === 'completed') return EXIT_CODES.ok;
      deps.err(`deploy: ${options.service}: ${body.outcome.status}: ${body.outcome.reason ?? ''}`);
      return EXIT_CODES.failed;
    }
    await deps.sleep(250);
  }
  deps.err(
    `deploy: ${options.service}: still running after ${options.timeoutMs / 1000}s; the platform keeps going`,
  );
  return EXIT_CODES.timeout;
}
