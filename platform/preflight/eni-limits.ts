/**
 * Network interfaces per EC2 instance type, for the awsvpc task-density checks. An awsvpc task takes
 * one ENI on its instance; the instance's primary ENI is not available to tasks, so a type hosts
 * `maxEnis - 1` tasks. With the ECS `awsvpcTrunking` account setting on (supported Nitro types only),
 * ECS attaches a trunk ENI and the type hosts `trunkTaskEnis` tasks instead.
 *
 * Sources: EC2 User Guide, "Maximum IP addresses per network interface" (the maximum network
 * interfaces per instance type), and the ECS Developer Guide, "Increasing Amazon ECS Linux container
 * instance network interfaces" (c5.large: 3 ENIs, 2 tasks; 10 tasks with trunking). Burstable t3/t3a
 * types do not support trunking. A type missing here is reported, not guessed.
 */
export interface EniLimit {
  /** Network interfaces the type accepts, the primary included. */
  readonly maxEnis: number;
  /** awsvpc tasks per instance with `awsvpcTrunking` on; undefined where trunking is not supported. */
  readonly trunkTaskEnis?: number;
}

const BURSTABLE: Readonly<Record<string, number>> = {
  nano: 2,
  micro: 2,
  small: 3,
  medium: 3,
  large: 3,
  xlarge: 4,
  '2xlarge': 4,
};

/** Current-generation Nitro families share the per-size ENI counts and ECS trunking densities. */
const NITRO_SIZES: Readonly<Record<string, EniLimit>> = {
  large: { maxEnis: 3, trunkTaskEnis: 10 },
  xlarge: { maxEnis: 4, trunkTaskEnis: 20 },
  '2xlarge': { maxEnis: 4, trunkTaskEnis: 40 },
  '4xlarge': { maxEnis: 8, trunkTaskEnis: 60 },
};

const BURSTABLE_FAMILIES = ['t3', 't3a'];
const NITRO_FAMILIES = ['m5', 'm6i', 'm7i', 'c5', 'c6i', 'c7i', 'r5', 'r6i'];

/** The embedded table, `instanceType → limit`. */
export const ENI_LIMITS: Readonly<Record<string, EniLimit>> = Object.fromEntries([
  ...BURSTABLE_FAMILIES.flatMap((family) =>
    Object.entries(BURSTABLE).map(([size, maxEnis]) => [`${family}.${size}`, { maxEnis }]),
  ),
  ...NITRO_FAMILIES.flatMap((family) =>
    Object.entries(NITRO_SIZES).map(([size, limit]) => [`${family}.${size}`, limit]),
  ),
]);

/** awsvpc tasks one instance of `instanceType` can host, or undefined when the type is not in the table. */
export function taskEnisPerInstance(instanceType: string, trunking: boolean): number | undefined {
  const limit = ENI_LIMITS[instanceType];
  if (!limit) return undefined;
  return trunking && limit.trunkTaskEnis !== undefined ? limit.trunkTaskEnis : limit.maxEnis - 1;
}
