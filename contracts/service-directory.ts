import { z } from 'zod';
import { MAX_BUDGET } from './alert-budget.ts';

/**
 * The platform's service directory: what a service declaring `platformAccess.readAnomalies` (the
 * operations console's backend) receives in `SERVICES`, one entry per declared service. Written by
 * the wiring model (platform/wiring), read by the backend; one shape on AWS and locally, with the
 * health source differing: locally the backend probes each process over loopback, on AWS it asks ECS
 * (`DescribeServices`), because the backend's security group reaches no other service.
 */

const serviceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a lowercase DNS label (a-z, 0-9, -), at most 63 characters');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const ServiceDirectoryEntrySchema = z.strictObject({
  name: serviceName,
  /** Behind the ALB, internal, or a worker (no port: no healthUrl); always written by the wiring model. */
  kind: z.enum(['web', 'internal', 'worker']).optional(),
  /**
   * The service's alert budget (`anomaly.budget`, contracts/alert-budget.ts) when its logs are scored:
   * the share of normal lines its sidecar may flag, shown beside the alert rate the console observes.
   */
  alertBudget: z.number().gt(0).max(MAX_BUDGET).optional(),
  /** Probed with GET; 2xx is `up` (local runs). */
  healthUrl: httpUrl.optional(),
  /** The service's anomaly sidecar (local runs), e.g. `http://127.0.0.1:9881`. */
  sidecarUrl: httpUrl.optional(),
  /** The ECS service whose running / desired / pending counts and deployments give its health (AWS). */
  ecs: z.strictObject({ cluster: z.string().min(1), service: z.string().min(1) }).optional(),
});
export type ServiceDirectoryEntry = z.infer<typeof ServiceDirectoryEntrySchema>;

export const ServiceDirectorySchema = z
  .array(ServiceDirectoryEntrySchema)
  .max(100)
  .refine((list) => new Set(list.map((s) => s.name)).size === list.length, 'service names must be unique');

/** The variable the directory travels in. */
export const SERVICE_DIRECTORY_VARIABLE = 'SERVICES';

/**
 * The variable a caller receives for a service it `talksTo`: `<NAME>_URL`, upper-case, hyphens as
 * underscores (`log-store` → `LOG_STORE_URL`).
 */
export function serviceUrlVariable(service: string): string {
  return `${service.toUpperCase().replaceAll('-', '_')}_URL`;
}
