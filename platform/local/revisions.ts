import { revisionLabel } from '../wiring/index.ts';
import { EdgeFault } from './edge-fault.ts';
import { listeningPort } from './process-plan.ts';
import type { Unit } from './unit.ts';

/**
 * The revisions of one service the local runtime runs, with the share of traffic each receives: what
 * the ALB's target groups and Cloud Map's records are on AWS. The local ALB (web services) and the
 * service's local address (every service; internal callers use it) pick a target per request here.
 */

/** One revision: its processes, its traffic weight and what the load balancer saw it answer. */
export interface Revision {
  /** 1, 2, … per service; the label is `<service>:<id>` as a task-definition revision is. */
  readonly id: number;
  readonly label: string;
  readonly app: Unit;
  readonly sidecar: Unit | undefined;
  /** Share of new requests, 0..100. */
  weight: number;
  readonly startedAt: number;
  /** How its app's environment differs from the declared one (a release's `--env`). */
  readonly environment: EnvironmentDiff;
  /** Requests answered and 5xx answers (the ALB's HTTPCode_Target_5XX_Count), since it started. */
  readonly counters: { requests: number; errors: number; firstErrorAt?: number };
}

/** Variables a revision sets beyond (or differently from) the declared environment, and those it unsets. */
export interface EnvironmentDiff {
  readonly set: Readonly<Record<string, string>>;
  readonly unset: readonly string[];
}

/**
 * A release's environment: the declared one with `--env` applied, `KEY=VALUE` setting and `KEY=` (empty)
 * unsetting; and how it differs from the declared one.
 *
 * @example
 * releaseEnvironment({ A: '1', B: '2' }, { B: '', C: '3' }); // { env: { A: '1', C: '3' }, diff: { set: { C: '3' }, unset: ['B'] } }
 */
export function releaseEnvironment(
  declared: Readonly<Record<string, string>>,
  changes: Readonly<Record<string, string>>,
): { env: Record<string, string>; diff: EnvironmentDiff } {
  const env: Record<string, string> = { ...declared };
  const set: Record<string, string> = {};
  const unset: string[] = [];
  for (const [name, value] of Object.entries(changes)) {
    if (value === '') {
      if (name in env) unset.push(name);
      delete env[name];
    } else {
      env[name] = value;
      if (declared[name] !== value) set[name] = value;
    }
  }
  return { env, diff: { set, unset } };
}

/** Counts one answer of a revision at its load balancer; the first 5xx's time is kept. */
export function countAnswer(counters: Revision['counters'], status: number, at = Date.now()): void {
  counters.requests += 1;
  if (status >= 500) {
    counters.errors += 1;
    counters.firstErrorAt ??= at;
  }
}

/** A target the proxies forward to. */
export interface RevisionTarget {
  readonly port: number;
  readonly healthy: boolean;
  readonly onResponse: (status: number) => void;
  /**
   * Set when the runtime's edge fault fails this request (`fault SERVICE on RATE`): the proxy answers
   * 500 itself, without forwarding, and calls it with the request, which logs the failure into the
   * revision's log stream.
   */
  readonly injectFailure?: (request: { readonly method: string; readonly path: string }) => void;
}

export class ServiceRevisions {
  private readonly list: Revision[] = [];
  /** The highest id ever given: ids (and labels) are never reused, as task-definition revisions are not. */
  private lastId = 0;
  /** The first revision: its plans are the declared ones every release starts from. */
  private first: Revision | undefined;

  /** The fault the runtime rehearses at this service's edge (a service without a fault switch of its own). */
  readonly fault: EdgeFault;

  constructor(
    readonly service: string,
    private readonly random: () => number = Math.random,
  ) {
    this.fault = new EdgeFault(random);
  }

  /** Every revision still running, oldest first. */
  get all(): readonly Revision[] {
    return [...this.list];
  }

  /** The newest revision that holds all the traffic (the service's "primary" once a deployment ends). */
  get current(): Revision {
    const full = this.list.filter((r) => r.weight === 100);
    return full.at(-1) ?? this.list.at(-1)!;
  }

  /**
   * The revision in service: the oldest one running, the one a deployment in progress would replace.
   * The edge fault stays on it while a new revision is rehearsed, so the gate judges the new revision on
   * its own answers and not on a failure the operator injected; once the deployment completes (the old
   * revision is removed) it is the new one, and the fault has followed it. A rollback leaves it in place.
   */
  get inService(): Revision {
    const first = this.list[0];
    if (!first) throw new Error(`${this.service}: no revision has been added`);
    return first;
  }

  add(
    revision: Omit<Revision, 'counters' | 'label' | 'environment'> & { environment?: EnvironmentDiff },
  ): Revision {
    const added: Revision = {
      environment: { set: {}, unset: [] },
      ...revision,
      label: revisionLabel(this.service, revision.id),
      counters: { requests: 0, errors: 0 },
    };
    this.lastId = Math.max(this.lastId, revision.id);
    this.first ??= added;
    this.list.push(added);
    return added;
  }

  /** The declared processes (the first revision's plans), whichever revision runs now. */
  get declared(): Pick<Revision, 'app' | 'sidecar'> {
    if (!this.first) throw new Error(`${this.service}: no revision has been added`);
    return this.first;
  }

  remove(revision: Revision): void {
    const i = this.list.indexOf(revision);
    if (i >= 0) this.list.splice(i, 1);
  }

  /** The next revision id, taken: never one given before, even to a revision since removed. */
  nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  /** Sets the weights by revision id; the rest get 0. */
  shift(weights: ReadonlyMap<number, number>): void {
    for (const revision of this.list) revision.weight = weights.get(revision.id) ?? 0;
  }

  /**
   * A target for one request: a healthy revision drawn by weight. When every weighted revision is
   * unhealthy the ALB answers 503 (the first one is returned unhealthy), as an empty target group does.
   */
  pick(): RevisionTarget | undefined {
    const weighted = this.list.filter((r) => r.weight > 0);
    const healthy = weighted.filter((r) => r.app.healthy);
    const pool = healthy.length > 0 ? healthy : weighted;
    if (pool.length === 0) return undefined;
    const total = pool.reduce((sum, r) => sum + r.weight, 0);
    let draw = this.random() * total;
    let chosen = pool[pool.length - 1]!;
    for (const revision of pool) {
      draw -= revision.weight;
      if (draw < 0) {
        chosen = revision;
        break;
      }
    }
    const failing = chosen === this.list[0] && chosen.app.healthy && this.fault.draw();
    return {
      port: listeningPort(chosen.app.plan),
      healthy: chosen.app.healthy,
      onResponse: (status) => {
        countAnswer(chosen.counters, status);
      },
      ...(failing
        ? { injectFailure: ({ method, path }) => this.fault.record(chosen.app, `${method} ${path}`) }
        : {}),
    };
  }
}
