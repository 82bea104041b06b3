/**
 * The facts preflight reads from a synthesised template rather than the manifest, because the AWS
 * renderer decides them: each ECS service's deployment bounds and network mode, and each Lambda
 * function's reserved concurrency. Pure: template JSON in, facts out.
 */
export interface RenderedService {
  /** `ServiceName`, the manifest's service name. */
  readonly name: string;
  /** `DeploymentConfiguration.MaximumPercent` (ECS default 200). */
  readonly maximumPercent: number;
  /** `DeploymentConfiguration.MinimumHealthyPercent` (ECS default 100). */
  readonly minimumHealthyPercent: number;
  /** The task definition's `NetworkMode` (`awsvpc` takes one ENI per task). */
  readonly networkMode: string;
}

export interface RenderedFunction {
  /** The construct path inside the stack (`Remediation/Remediate`), else the logical id. */
  readonly name: string;
  readonly reservedConcurrency: number | undefined;
}

export interface RenderedFacts {
  readonly services: readonly RenderedService[];
  readonly functions: readonly RenderedFunction[];
}

interface Resource {
  readonly Type: string;
  readonly Metadata?: Record<string, unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, read field by field
  readonly Properties?: Record<string, any>;
}

/** Reads {@link RenderedFacts} from one or more templates (every stack of the app). */
export function renderedFacts(templates: readonly unknown[]): RenderedFacts {
  const resources = templates.flatMap((t) =>
    Object.entries(
      ((t as { Resources?: Record<string, Resource> }).Resources ?? {}) as Record<string, Resource>,
    ),
  );
  const byId = new Map(resources);
  const services = resources
    .filter(([, r]) => r.Type === 'AWS::ECS::Service')
    .map(([id, r]): RenderedService => {
      const props = r.Properties ?? {};
      // The platform's services name their task-definition family (ECS runs its latest ACTIVE revision);
      // a Ref names the resource itself.
      const taskRef = props.TaskDefinition?.Ref as string | undefined;
      const task = taskRef
        ? byId.get(taskRef)
        : resources.find(
            ([, t]) => t.Type === 'AWS::ECS::TaskDefinition' && t.Properties?.Family === props.TaskDefinition,
          )?.[1];
      return {
        name: typeof props.ServiceName === 'string' ? props.ServiceName : id,
        maximumPercent: Number(props.DeploymentConfiguration?.MaximumPercent ?? 200),
        minimumHealthyPercent: Number(props.DeploymentConfiguration?.MinimumHealthyPercent ?? 100),
        networkMode: String(task?.Properties?.NetworkMode ?? 'bridge'),
      };
    });
  const functions = resources
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => {
      const reserved = r.Properties?.ReservedConcurrentExecutions;
      return {
        name: constructPath(id, r),
        reservedConcurrency: reserved === undefined ? undefined : Number(reserved),
      };
    });
  return { services, functions };
}

/** `acme-platform/Remediation/Remediate/Function/Resource` → `Remediation/Remediate`. */
function constructPath(id: string, resource: Resource): string {
  const path = resource.Metadata?.['aws:cdk:path'];
  if (typeof path !== 'string') return id;
  return (
    path
      .split('/')
      .slice(1)
      .filter((p) => p !== 'Resource' && p !== 'Function')
      .join('/') || id
  );
}
