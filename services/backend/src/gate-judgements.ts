import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { z } from 'zod';
import type { ServiceDeployments } from '../../../contracts/console-ops.ts';
import { type Judgement, JudgementSchema } from '../../../contracts/judgement.ts';

/**
 * On AWS the deployment view shows the judgements the deployment gate logged (functions/deployment-gate
 * writes one line per decision, `message` "deployment gate decision", with the judgement): read back
 * from the gate's log group, the latest per revision and stage, attached to the revision they judged.
 */

/** The gate's decision line (Powertools logger JSON), as far as the console needs it. */
const DecisionLineSchema = z.object({
  ecsService: z.string(),
  lifecycleStage: z.string().optional(),
  judgement: JudgementSchema,
});

/** Pages of decision lines read per view: ECS asks the gate about every 30 s, a view needs the last hour. */
const MAX_PAGES = 5;

/** One revision's judgement, keyed by the revision number its label ends in (`frontend:5` → `5`). */
export interface RevisionJudgement {
  readonly revisionNumber: string;
  readonly judgement: Judgement;
}

export interface GateJudgementsOptions {
  readonly logs: Pick<CloudWatchLogsClient, 'send'>;
  /** The deployment gate's log group. */
  readonly logGroup: string;
  /** How far back decisions are read. */
  readonly lookbackMinutes: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export class GateJudgements {
  private readonly now: () => number;

  constructor(private readonly options: GateJudgementsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The latest judgement per judged revision and stage of one ECS service, newest first. */
  async of(ecsService: string, signal?: AbortSignal): Promise<RevisionJudgement[]> {
    const latest = new Map<string, RevisionJudgement>();
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const response = await this.options.logs.send(
        new FilterLogEventsCommand({
          logGroupName: this.options.logGroup,
          startTime: this.now() - this.options.lookbackMinutes * 60_000,
          filterPattern: `{ ($.message = "deployment gate decision") && ($.ecsService = "${ecsService}") }`,
          nextToken,
        }),
        { abortSignal: signal },
      );
      for (const event of response.events ?? []) {
        const parsed = DecisionLineSchema.safeParse(parseJson(event.message));
        if (!parsed.success) continue;
        const { judgement } = parsed.data;
        const judged = judgement.revisions.find((r) => r.role === 'new');
        const revisionNumber = judged?.revision.split(':').at(-1);
        if (!revisionNumber) continue;
        const key = `${revisionNumber}|${judgement.stage}`;
        const known = latest.get(key);
        if (!known || known.judgement.at <= judgement.at) latest.set(key, { revisionNumber, judgement });
      }
      nextToken = response.nextToken;
      if (!nextToken) break;
    }
    return [...latest.values()].sort((a, b) => b.judgement.at.localeCompare(a.judgement.at));
  }
}

/** Attaches each judgement to the deployment of the revision it judged (`acme-frontend:5` ↔ `5`). */
export function withJudgements(
  service: ServiceDeployments,
  judgements: readonly RevisionJudgement[],
): ServiceDeployments {
  if (judgements.length === 0) return service;
  return {
    ...service,
    deployments: service.deployments.map((d) => {
      const number = d.revision.split(':').at(-1);
      const own = judgements.filter((j) => j.revisionNumber === number).map((j) => j.judgement);
      return own.length > 0 ? { ...d, judgements: own } : d;
    }),
  };
}

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}
