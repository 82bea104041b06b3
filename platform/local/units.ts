import { type ForwarderStats, type PrefixPrinter, SidecarForwarder } from './log-router.ts';
import type { ProcessPlan } from './process-plan.ts';
import type { RestartPolicy } from './supervisor.ts';
import { Unit } from './unit.ts';

/**
 * Every supervised process of a run: made from plans (each app with its log route to its sidecar),
 * started, stopped in ECS's order, and listed for the state files.
 */
export class UnitSet {
  private readonly list: Unit[] = [];

  constructor(
    private readonly root: string,
    private readonly policy: RestartPolicy,
    private readonly printer: PrefixPrinter,
    private readonly cluster: string,
  ) {}

  /** Every unit made so far (revisions started by deployments included), in creation order. */
  get all(): readonly Unit[] {
    return [...this.list];
  }

  /** Makes (and registers for {@link stopAll}) a supervised unit for a plan; it is not started. */
  create(plan: ProcessPlan): Unit {
    const forwarder = plan.logIntake
      ? new SidecarForwarder({
          url: plan.logIntake.url,
          token: plan.logIntake.token,
          onTrouble: (message) =>
            this.printer.print(`${plan.label}`, `[local] log router: ${message}`, 'stderr'),
        })
      : undefined;
    const unit = new Unit(plan, this.root, process.pid, this.policy, this.printer, this.cluster, forwarder);
    this.list.push(unit);
    return unit;
  }

  /** The app (role `service`) or sidecar unit of a service's first revision. */
  find(role: ProcessPlan['role'], service?: string): Unit | undefined {
    return this.list.find((u) => u.plan.role === role && u.plan.service === service);
  }

  /** The log router's counts per forwarding unit. */
  forwarderStats(): Record<string, ForwarderStats> {
    return Object.fromEntries(
      this.list.filter((u) => u.forwarder).map((u) => [u.plan.label, u.forwarder!.stats]),
    );
  }

  /**
   * Stops every unit. App containers and functions first, so their last lines still reach running
   * sidecars (as ECS stops a task's essential container before the containers it depends on).
   */
  async stopAll(): Promise<void> {
    const first = this.list.filter((u) => u.plan.role === 'service' || u.plan.role === 'function');
    await Promise.all(first.map((u) => u.stop()));
    await Promise.all(this.list.map((u) => u.forwarder?.close()));
    await Promise.all(this.list.filter((u) => !first.includes(u)).map((u) => u.stop()));
  }
}
