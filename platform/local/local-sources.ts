import type { ServiceDirectoryEntry } from '../../contracts/service-directory.ts';
import { type DirectoryEntryWiring, type ValueSource, WiringInvariantError } from '../wiring/index.ts';

/**
 * The wiring's value sources as loopback values: what a local process is handed where an ECS task gets
 * CloudFormation tokens (platform/aws/constructs/value-sources.ts renders the same sources there).
 */

/** Loopback values of the wiring's value sources for one container. */
export interface LocalSources {
  readonly port: number | undefined;
  readonly service: string;
  readonly platform: string;
  readonly region: string;
  readonly calleeUrl: (service: string) => string;
  readonly modelEndpointName: string | undefined;
  readonly serviceDirectory: string;
  readonly secretValues: Readonly<Record<string, string>>;
  /** The task's intake token (router and sidecar): random, per run and service. */
  readonly intakeToken?: string;
}

function localValue(name: string, source: ValueSource, sources: LocalSources): string {
  switch (source.kind) {
    case 'literal':
      return source.value;
    case 'secret':
      return sources.secretValues[name]!;
    case 'listen-port':
      if (sources.port === undefined) {
        throw new WiringInvariantError(name, 'listen-port on a container without a port');
      }
      return String(sources.port);
    case 'listen-host':
      return '127.0.0.1';
    case 'callee-url':
      return sources.calleeUrl(source.service);
    case 'model-endpoint-name':
      if (!sources.modelEndpointName) {
        throw new WiringInvariantError(name, 'model-endpoint-name without a model endpoint');
      }
      return sources.modelEndpointName;
    case 'log-group':
      // Names only: nothing locally writes to or reads from CloudWatch Logs.
      return source.group === 'app'
        ? `/${sources.platform}/${sources.service}/app`
        : source.group === 'anomaly'
          ? `/${sources.platform}/anomaly`
          : `/${sources.platform}/functions/deployment-gate`;
    case 'log-stream-prefix':
      return `${sources.service}/`;
    case 'region':
      return sources.region;
    case 'cluster-name':
      return sources.platform;
    case 'service-directory':
      return sources.serviceDirectory;
    case 'anomaly-source':
    case 'operations-source':
      return 'local';
    case 'remediation-ledger':
      return `${sources.platform}-remediation-ledger`;
    case 'intake-token':
      if (sources.intakeToken === undefined) {
        throw new WiringInvariantError(name, 'an intake token outside a task');
      }
      return sources.intakeToken;
  }
}

export function renderLocalEnvironment(
  environment: Readonly<Record<string, ValueSource>>,
  sources: LocalSources,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, source]) => [name, localValue(name, source, sources)]),
  );
}

/** A service's stable loopback address and, when scored, its sidecars' merged API. */
export interface LocalAddress {
  readonly port: number;
  readonly sidecarPort?: number;
}

/**
 * The wiring's service directory locally: each service's health is a GET of its health path at its
 * stable address, its anomalies the merged API of its revisions' sidecars.
 */
export function renderLocalDirectory(
  entries: readonly DirectoryEntryWiring[],
  addressOf: (service: string) => LocalAddress,
): ServiceDirectoryEntry[] {
  return entries.map((entry) => {
    const address = addressOf(entry.health.service);
    return {
      name: entry.name,
      kind: entry.kind,
      healthUrl: `${url(address.port)}${entry.health.path}`,
      ...(entry.anomalies && address.sidecarPort !== undefined
        ? { sidecarUrl: url(address.sidecarPort) }
        : {}),
    };
  });
}

const url = (port: number) => `http://127.0.0.1:${port}`;
