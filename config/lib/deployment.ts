/**
 * How a service's new revision replaces the old one, and what rolls it back: choices that carry data,
 * as classes with static factories (STYLE.md). Their manifest form is plain JSON.
 */

/** An alarm that rolls a deployment back, in manifest form. */
export type RollbackAlarmSpec =
  /** The new revision's anomalous-line rate (its sidecars' `AnomalousLines / LinesScored`). */
  | { readonly kind: 'anomaly-rate'; readonly percent: number }
  /** The new revision's share of 5xx answers at the load balancer (web services). */
  | { readonly kind: 'error-rate'; readonly percent: number }
  /** Any unhealthy target in the service's target group (web services). */
  | { readonly kind: 'unhealthy-targets' };

/** An alarm watched during a deployment; in ALARM, the deployment is rolled back. */
export class RollbackAlarm {
  /**
   * The new revision's anomaly rate at or above `percent` (of scored lines).
   * @example RollbackAlarm.anomalyRate({ percent: 5 })
   */
  static anomalyRate(options: { readonly percent?: number } = {}): RollbackAlarm {
    return new RollbackAlarm({ kind: 'anomaly-rate', percent: options.percent ?? 5 });
  }

  /**
   * The new revision's 5xx answers at or above `percent` of its requests (web services only).
   * @example RollbackAlarm.errorRate({ percent: 2 })
   */
  static errorRate(options: { readonly percent?: number } = {}): RollbackAlarm {
    return new RollbackAlarm({ kind: 'error-rate', percent: options.percent ?? 5 });
  }

  /** Any unhealthy target while the deployment runs (web services only). */
  static unhealthyTargets(): RollbackAlarm {
    return new RollbackAlarm({ kind: 'unhealthy-targets' });
  }

  private constructor(readonly spec: RollbackAlarmSpec) {}
}

/** A deployment strategy, in manifest form. */
export type DeploymentStrategySpec =
  | { readonly strategy: 'rolling' }
  | { readonly strategy: 'canary'; readonly percent: number; readonly bakeMinutes: number }
  | { readonly strategy: 'linear'; readonly stepPercent: number; readonly stepMinutes: number }
  | { readonly strategy: 'blue-green'; readonly bakeMinutes: number };

/** What a release does when the model endpoint cannot score the new revision's lines. */
export type ScorerOutagePolicy = 'roll-back' | 'judge-on-errors';

/** How the deployment gate judges a new revision; every strategy takes these options. */
export interface JudgementOptions {
  /**
   * GET paths sent to the new revision through its test route while it has too little traffic to be
   * judged (an idle release is judged on them). Safe to repeat; let them exercise what the service does:
   * a path nobody serves judges nothing.
   * @default - the health check path, and `/` for web services
   */
  readonly probes?: readonly string[];
  /**
   * When the model endpoint cannot score the new revision's lines: `judge-on-errors` lets the error rates
   * decide alone (scoring stays off the delivery path), `roll-back` fails the release.
   * @default 'judge-on-errors'
   */
  readonly onScorerOutage?: ScorerOutagePolicy;
}

/** A strategy with its judgement, in manifest form: `deployment` of a service. */
export type DeploymentSpec = DeploymentStrategySpec & {
  readonly probes: readonly string[];
  readonly onScorerOutage: ScorerOutagePolicy;
};

/**
 * How new revisions roll out: ECS's native strategies. Every strategy but rolling shifts traffic at the
 * load balancer, so it needs a web service. Every strategy takes {@link JudgementOptions}.
 */
export class Deployment {
  /**
   * Tasks replaced in place, within min/max healthy percent; the circuit breaker rolls back.
   * @example Deployment.rolling({ probes: ['/healthz', '/api/orders'] })
   */
  static rolling(options: JudgementOptions = {}): Deployment {
    return new Deployment({ strategy: 'rolling' }, options);
  }

  /**
   * `percent` of traffic to the new revision for `bakeMinutes`, then all of it.
   * @example Deployment.canary({ percent: 10, bakeMinutes: 5 })
   */
  static canary(
    options: { readonly percent?: number; readonly bakeMinutes?: number } & JudgementOptions = {},
  ): Deployment {
    return new Deployment(
      { strategy: 'canary', percent: options.percent ?? 5, bakeMinutes: options.bakeMinutes ?? 10 },
      options,
    );
  }

  /**
   * `stepPercent` more traffic every `stepMinutes` until all of it.
   * @example Deployment.linear({ stepPercent: 25, stepMinutes: 2 })
   */
  static linear(
    options: { readonly stepPercent?: number; readonly stepMinutes?: number } & JudgementOptions = {},
  ): Deployment {
    return new Deployment(
      { strategy: 'linear', stepPercent: options.stepPercent ?? 10, stepMinutes: options.stepMinutes ?? 6 },
      options,
    );
  }

  /**
   * All traffic to the new revision at once, the old one kept for `bakeMinutes` to roll back to.
   * @example Deployment.blueGreen({ bakeMinutes: 10 })
   */
  static blueGreen(options: { readonly bakeMinutes?: number } & JudgementOptions = {}): Deployment {
    return new Deployment({ strategy: 'blue-green', bakeMinutes: options.bakeMinutes ?? 10 }, options);
  }

  readonly judgement: JudgementOptions;

  private constructor(
    readonly spec: DeploymentStrategySpec,
    options: JudgementOptions,
  ) {
    this.judgement = {
      ...(options.probes !== undefined ? { probes: [...options.probes] } : {}),
      ...(options.onScorerOutage !== undefined ? { onScorerOutage: options.onScorerOutage } : {}),
    };
  }
}

/** When a release waits for a person, in manifest form (ECS's lifecycle stage of the pause hook). */
export type ApprovalStage = 'POST_TEST_TRAFFIC_SHIFT' | 'POST_PRODUCTION_TRAFFIC_SHIFT';

/** A manual approval, in manifest form. */
export interface ApprovalSpec {
  readonly stage: ApprovalStage;
  /** Minutes ECS waits for `continue` or `abort` before taking {@link onTimeout}. */
  readonly timeoutMinutes: number;
  /** What ECS does when nobody answers in time. */
  readonly onTimeout: 'roll-back' | 'continue';
}

/** Options of {@link ManualApproval}'s factories. */
export interface ManualApprovalOptions {
  /**
   * Minutes to wait for `deploy continue` or `deploy abort` (ECS allows 1 to 20160).
   * @default 60
   */
  readonly timeoutMinutes?: number;
  /**
   * What happens when nobody answers in time.
   * @default 'roll-back' - an unattended release never goes live
   */
  readonly onTimeout?: 'roll-back' | 'continue';
}

/**
 * A pause in a release until a person answers `npm run deploy -- continue` (or `abort`): an ECS pause
 * lifecycle hook at the chosen stage. It needs a strategy that shifts traffic (canary, linear,
 * blue/green), whose stages it pauses at.
 */
export class ManualApproval {
  /**
   * After the new revision took the test traffic and before any user reaches it.
   * @example ManualApproval.beforeProductionTraffic({ timeoutMinutes: 120 })
   */
  static beforeProductionTraffic(options: ManualApprovalOptions = {}): ManualApproval {
    return new ManualApproval(approvalSpec('POST_TEST_TRAFFIC_SHIFT', options));
  }

  /**
   * After every user reached the new revision and before the old one is stopped (a rollback is still instant).
   * @example ManualApproval.afterProductionTraffic()
   */
  static afterProductionTraffic(options: ManualApprovalOptions = {}): ManualApproval {
    return new ManualApproval(approvalSpec('POST_PRODUCTION_TRAFFIC_SHIFT', options));
  }

  private constructor(readonly spec: ApprovalSpec) {}
}

function approvalSpec(stage: ApprovalStage, options: ManualApprovalOptions): ApprovalSpec {
  return { stage, timeoutMinutes: options.timeoutMinutes ?? 60, onTimeout: options.onTimeout ?? 'roll-back' };
}
