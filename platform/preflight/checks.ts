import type { PlatformWiring } from '../wiring/index.ts';
import { ENI_LIMITS, taskEnisPerInstance } from './eni-limits.ts';
import type { RenderedFacts } from './rendered.ts';

/**
 * The preflight checks: what a first deploy or a rollout of the rendered platform would run into,
 * decided offline from the wiring and the synthesised template. Pure; the CLI's `preflight` is the adapter.
 */

/** `blocker`: the deploy or a rollout fails; `warning`: it works, with a cost worth knowing. */
export type Level = 'ok' | 'warning' | 'blocker';

export interface Finding {
  readonly check: string;
  readonly level: Level;
  readonly message: string;
  /** What to change; absent for `ok`. */
  readonly fix?: string;
}

/**
 * Lambda's default concurrency quota per account and Region, and the part that must stay unreserved
 * (PutFunctionConcurrency refuses a reservation that leaves less than 100).
 */
export const LAMBDA_DEFAULT_CONCURRENCY = 1000;
export const LAMBDA_MINIMUM_UNRESERVED = 100;

/** SageMaker real-time inference instance types this check knows (a common subset). */
export const KNOWN_ENDPOINT_INSTANCE_TYPES: ReadonlySet<string> = new Set(
  ['t2', 'm5', 'm6i', 'c5', 'c6i', 'r5'].flatMap((family) =>
    ['medium', 'large', 'xlarge', '2xlarge', '4xlarge'].map((size) => `ml.${family}.${size}`),
  ),
);

/** Options of {@link preflight}. */
export interface PreflightOptions {
  /**
   * The account has the ECS `awsvpcTrunking` setting on. The platform does not turn it on: it is an
   * account setting (`aws ecs put-account-setting-default --name awsvpcTrunking --value enabled`),
   * not a stack resource.
   * @default false
   */
  readonly trunking?: boolean;
}

/** Every check, in report order. */
export function preflight(
  wiring: PlatformWiring,
  rendered: RenderedFacts,
  options: PreflightOptions = {},
): Finding[] {
  return [
    ...checkTaskEnis(wiring, rendered, options.trunking ?? false),
    ...checkEndpoint(wiring),
    ...checkReservedConcurrency(rendered),
    ...checkCertificate(wiring),
    ...checkAlarmSubscribers(wiring),
  ];
}

function checkTaskEnis(wiring: PlatformWiring, rendered: RenderedFacts, trunking: boolean): Finding[] {
  const { capacity } = wiring;
  const check = 'awsvpc task ENIs';
  const unknown = capacity.instanceTypes.filter((t) => !(t in ENI_LIMITS));
  if (unknown.length > 0) {
    return [
      {
        check,
        level: 'warning',
        message: `no ENI limit known for ${unknown.join(', ')}; task density not checked`,
        fix: `compare the tasks below with \`aws ec2 describe-instance-types --instance-types ${unknown.join(' ')} --query "InstanceTypes[].NetworkInfo.MaximumNetworkInterfaces"\` (minus one primary ENI each)`,
      },
    ];
  }
  // The Auto Scaling group may launch any declared type, so the smallest decides what surely fits.
  const perType = capacity.instanceTypes.map((t) => ({ type: t, enis: taskEnisPerInstance(t, trunking)! }));
  const smallest = perType.reduce((a, b) => (b.enis < a.enis ? b : a));
  const per = smallest.enis;
  const basis = `${smallest.type}: ${trunking ? `${per} with awsvpcTrunking` : `${ENI_LIMITS[smallest.type]!.maxEnis} ENIs − 1 primary`}`;
  const trunkingNote: Finding = {
    check: 'awsvpc trunking',
    level: 'ok',
    message: trunking
      ? 'assumed on for the account (--trunking); the platform does not set it'
      : 'off: awsvpcTrunking is an account setting the platform does not change (pass --trunking if the account has it on)',
  };
  // Only awsvpc tasks take an ENI of their own.
  const services = wiring.tasks.filter(
    (t) => (rendered.services.find((r) => r.name === t.service)?.networkMode ?? 'awsvpc') === 'awsvpc',
  );
  const minTasks = sum(services.map((s) => s.scaling.minTasks));
  const maxTasks = sum(services.map((s) => s.scaling.maxTasks));
  const surge = (s: (typeof services)[number], count: number) =>
    Math.floor((count * (rendered.services.find((r) => r.name === s.service)?.maximumPercent ?? 200)) / 100);
  const rolloutFromMin = sum(services.map((s) => surge(s, s.scaling.minTasks)));
  const rolloutFromMax = sum(services.map((s) => surge(s, s.scaling.maxTasks)));
  const atMin = capacity.minInstances * per;
  const atMax = capacity.maxInstances * per;
  const trunkable = capacity.instanceTypes.filter((t) => ENI_LIMITS[t]!.trunkTaskEnis !== undefined);
  const moreEnis = trunking
    ? `raise capacity.maxInstances to ${Math.ceil(rolloutFromMin / per)} or choose larger instance types`
    : trunkable.length === capacity.instanceTypes.length
      ? `turn on awsvpcTrunking for the account (${trunkable.join(', ')} support it), raise capacity.maxInstances, or choose larger instance types`
      : 'choose instance types with more ENIs, or Nitro types that support awsvpcTrunking (e.g. m6i.large: 10 tasks with trunking instead of 2), or raise capacity.maxInstances';
  const findings: Finding[] = [trunkingNote];
  const ctx = `${capacity.minInstances}..${capacity.maxInstances} instances × ${per} task ENIs each, ${basis}`;

  if (minTasks > atMax) {
    findings.push({
      check,
      level: 'blocker',
      message: `the services' minimum of ${minTasks} tasks needs ${minTasks} task ENIs; at most ${atMax} exist (${ctx}): tasks stay PROVISIONING and the first deploy never reaches a steady state`,
      fix: moreEnis,
    });
  } else if (minTasks > atMin) {
    findings.push({
      check,
      level: 'warning',
      message: `the services' minimum of ${minTasks} tasks needs ${minTasks} task ENIs; ${atMin} exist at capacity.minInstances (${ctx}): managed scaling adds instances before the platform is steady`,
      fix: `raise capacity.minInstances to ${Math.ceil(minTasks / per)}`,
    });
  } else {
    findings.push({
      check,
      level: 'ok',
      message: `${minTasks} tasks at the services' minimum fit ${atMin} task ENIs at minimum instances (${ctx})`,
    });
  }

  if (rolloutFromMin > atMax) {
    findings.push({
      check,
      level: 'blocker',
      message: `a rollout at maximumPercent ${maxPercentText(rendered)} runs ${rolloutFromMin} tasks (the services' minimum of ${minTasks}, old and new side by side); at most ${atMax} task ENIs exist at maximum instances (${ctx}): the new tasks cannot be placed and the rollout never completes`,
      fix: moreEnis,
    });
  } else {
    findings.push({
      check,
      level: 'ok',
      message: `a rollout at maximumPercent ${maxPercentText(rendered)} from the minimum runs ${rolloutFromMin} tasks; ${atMax} task ENIs exist at maximum instances`,
    });
  }

  if (rolloutFromMax > atMax) {
    findings.push({
      check,
      level: 'warning',
      message: `scaled out to scaling.max (${maxTasks} tasks), a rollout needs ${rolloutFromMax} task ENIs; ${atMax} exist at maximum instances${maxTasks >= atMax ? ', none spare: the rollout waits until the services scale in' : ': the rollout proceeds a few tasks at a time'}`,
      fix: moreEnis,
    });
  }
  return findings;
}

function checkEndpoint(wiring: PlatformWiring): Finding[] {
  const model = wiring.model;
  const check = 'model endpoint';
  if (!model) return [{ check, level: 'ok', message: 'no model endpoint declared' }];
  const findings: Finding[] = [];
  const { type, count } = model.instances;
  if (!KNOWN_ENDPOINT_INSTANCE_TYPES.has(type)) {
    findings.push({
      check,
      level: 'warning',
      message: `instance type ${type} is not one preflight knows for real-time inference`,
      fix: `check it is offered for SageMaker real-time endpoints in your Region, or use ml.m5.large`,
    });
  }
  // config/ refuses fewer than two instances (ModelEndpoint instanceCount).
  findings.push({ check, level: 'ok', message: `${count} × ${type}, spread over Availability Zones` });
  findings.push({
    check,
    level: 'warning',
    message: `${count} × ${type} count against the account's SageMaker quota for that type, which preflight cannot see offline`,
    fix: `check that "${type} for endpoint usage" in Service Quotas (SageMaker) is ≥ ${count} before the first deploy`,
  });
  return findings;
}

function checkReservedConcurrency(rendered: RenderedFacts): Finding[] {
  const check = 'Lambda reserved concurrency';
  const reserved = rendered.functions.filter((f) => f.reservedConcurrency !== undefined);
  const total = sum(reserved.map((f) => f.reservedConcurrency!));
  const limit = LAMBDA_DEFAULT_CONCURRENCY - LAMBDA_MINIMUM_UNRESERVED;
  const list = reserved.map((f) => `${f.name} ${f.reservedConcurrency}`).join(', ') || 'none';
  if (total > limit) {
    return [
      {
        check,
        level: 'blocker',
        message: `the functions reserve ${total} concurrent executions (${list}); the default quota of ${LAMBDA_DEFAULT_CONCURRENCY} allows ${limit} with ${LAMBDA_MINIMUM_UNRESERVED} left unreserved`,
        fix: `lower the reservations or request a higher "Concurrent executions" quota before deploying`,
      },
    ];
  }
  const findings: Finding[] = [
    {
      check,
      level: 'ok',
      message: `${total} of ${limit} reservable (${list}) under the default quota of ${LAMBDA_DEFAULT_CONCURRENCY}`,
    },
  ];
  if (total > 0) {
    findings.push({
      check,
      level: 'warning',
      message: `a new account can start with a concurrency quota far below ${LAMBDA_DEFAULT_CONCURRENCY} (as low as 10); there any reservation fails the deploy`,
      fix: `check \`aws lambda get-account-settings --query AccountLimit.ConcurrentExecutions\` is ≥ ${total + LAMBDA_MINIMUM_UNRESERVED}; request an increase in Service Quotas if not`,
    });
  }
  return findings;
}

function checkCertificate(wiring: PlatformWiring): Finding[] {
  const check = 'certificate';
  const edge = wiring.edge;
  if (edge.certificateArn) {
    return [{ check, level: 'ok', message: `HTTPS with ${edge.certificateArn}, HTTP redirects to it` }];
  }
  if (edge.insecureHttpOnly) {
    return [
      {
        check,
        level: 'warning',
        message: 'edge.insecureHttpOnly is declared: plain HTTP to the internet, no sign-in',
        fix: 'remove edge.insecureHttpOnly (HTTPS with a DNS-validated certificate and sign-in is the default)',
      },
    ];
  }
  // Without an ARN the stack requests a DNS-validated certificate, whose deploy waits for the CNAME.
  return [
    {
      check,
      level: 'warning',
      message: edge.domainName
        ? `a DNS-validated certificate is requested for ${edge.domainName}: the deploy waits until its CNAME record exists`
        : 'no domain declared: the certificate is requested for the placeholder console.example.com, which cannot be validated',
      fix: edge.domainName
        ? 'create the CNAME record ACM shows while the platform stack deploys, or declare edge.certificateArn'
        : 'declare edge.domainName (or synth with PLATFORM_DOMAIN=console.example.com) before deploying',
    },
  ];
}

function checkAlarmSubscribers(wiring: PlatformWiring): Finding[] {
  const check = 'alarm subscribers';
  const emails = wiring.observability.alarmEmails;
  if (emails.length > 0) {
    const whom = emails.join(', ');
    const must =
      emails.length === 1
        ? 'the address must confirm the subscription'
        : 'each address must confirm its subscription';
    return [{ check, level: 'ok', message: `alarms notify ${whom} (${must})` }];
  }
  return [
    {
      check,
      level: 'warning',
      message: 'no alarm subscriber declared: alarms and remediation notices reach an SNS topic nobody reads',
      fix: 'set observability.alarmEmail, or subscribe to the topic outside the stack',
    },
  ];
}

function maxPercentText(rendered: RenderedFacts): string {
  const values = [...new Set(rendered.services.map((s) => s.maximumPercent))];
  return values.length > 0 ? values.map((v) => `${v}%`).join('/') : '200%';
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The report: one line per finding (`ok`, `warn`, `BLOCK`), its fix indented below, then a summary. */
export function formatReport(platformName: string, findings: readonly Finding[]): string {
  const label: Record<Level, string> = { ok: 'ok   ', warning: 'warn ', blocker: 'BLOCK' };
  const lines = [`preflight: ${platformName}`];
  for (const f of findings) {
    lines.push(`${label[f.level]} ${f.check}: ${f.message}`);
    if (f.fix) lines.push(`      fix: ${f.fix}`);
  }
  const blockers = findings.filter((f) => f.level === 'blocker').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  lines.push(
    `${blockers} blocker${blockers === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  );
  return lines.join('\n');
}
