import type { PlatformWiring } from '../wiring/index.ts';
import { UsageError } from './args.ts';

/**
 * One stage a release is promoted through: an environment of the declaration, rolled out, judged by
 * the anomaly gate, and only then followed by the next stage.
 */
export interface DeliveryStage {
  /** The environment's name: the GitHub environment its jobs run in, and `--env NAME` on the command line. */
  readonly environment: string;
  /**
   * A person approves the stage before it starts: its jobs name a GitHub environment whose required
   * reviewers (set on the environment in the repository's settings) must approve them.
   */
  readonly protected: boolean;
  /**
   * The declaration declares this environment: `synth --env NAME` renders only its stacks, so each
   * stage's `cdk deploy` touches its own. False for the one stage of a declaration without environments.
   */
  readonly declared: boolean;
}

/** The GitHub environment a declaration without `delivery.environment` deploys from. */
const DEFAULT_ENVIRONMENT = 'production';

/**
 * The stages a release is promoted through, in order. A declaration without environments has one,
 * protected: the GitHub environment its delivery roles trust (`delivery.environment`, else
 * `production`). A declaration with environments (`environments`, in the promotion order it declares
 * them: staging, then production) gives one stage each, protected as declared; this is the one
 * function that turns them into stages.
 */
export function deliveryStages(
  wiring: PlatformWiring,
  environments: readonly { readonly name: string; readonly protected: boolean }[] = [],
): DeliveryStage[] {
  if (environments.length > 0) {
    return environments.map((e) => ({ environment: e.name, protected: e.protected, declared: true }));
  }
  return [
    { environment: wiring.delivery?.environment ?? DEFAULT_ENVIRONMENT, protected: true, declared: false },
  ];
}

/** The branch whose pushes release (`delivery.branch`; the delivery roles trust only it). */
export const deliveryBranch = (wiring: PlatformWiring): string => wiring.delivery?.branch ?? 'main';

/**
 * The stage `--env NAME` names; the first stage when no name is given.
 *
 * @throws UsageError naming the declared environments and the fix.
 */
export function stageNamed(wiring: PlatformWiring, name: string | undefined): DeliveryStage {
  const stages = deliveryStages(wiring);
  if (name === undefined) return stages[0]!;
  const stage = stages.find((s) => s.environment === name);
  if (stage) return stage;
  const names = stages.map((s) => s.environment);
  throw new UsageError(
    `--env '${name}' is not an environment of the declaration (environments: ${names.join(', ')}). Fix: use --env ${names[0]}, or declare the environment '${name}'`,
  );
}
