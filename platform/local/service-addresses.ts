import { startLocalAlb } from './alb.ts';
import type { ServiceAddress } from './plan.ts';
import { listeningPort } from './process-plan.ts';
import type { ServiceRevisions } from './revisions.ts';
import { startSidecarAggregate } from './sidecar-aggregate.ts';

/** Something the runtime started and closes on stop. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Each service's stable loopback addresses: a proxy over its running revisions (standing in for Cloud
 * Map and its target group) and, when scored, its revisions' sidecars merged (standing in for the
 * CloudWatch metrics and anomaly log group). Every server started is added to `servers`, so a failure
 * half-way still closes the ones before it.
 */
export async function startServiceAddresses(
  addresses: readonly ServiceAddress[],
  revisions: ReadonlyMap<string, ServiceRevisions>,
  servers: Closable[],
): Promise<void> {
  for (const address of addresses) {
    const list = revisions.get(address.service)!;
    // A worker has no address: nothing calls it.
    if (address.port !== undefined) {
      servers.push(
        await startLocalAlb({
          rules: [{ service: address.service, paths: [], priority: 0 }],
          port: address.port,
          targetOf: () => list.pick(),
        }),
      );
    }
    if (address.sidecarPort !== undefined) {
      servers.push(
        await startSidecarAggregate({
          service: address.service,
          port: address.sidecarPort,
          sidecars: () =>
            list.all.flatMap((r) => (r.sidecar ? [`http://127.0.0.1:${listeningPort(r.sidecar.plan)}`] : [])),
        }),
      );
    }
  }
}
