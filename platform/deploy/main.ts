import { setTimeout as sleep } from 'node:timers/promises';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { declarePlatform } from '../../config/declaration.ts';
import { wirePlatform } from '../wiring/index.ts';
import { runCli } from './cli.ts';

// No AWS SDK Node-version warning from this process, before any client is made: what
// runtime/aws-sdk-node-warning.ts does for the services (the deploy command may not import runtime/).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `npm run deploy -- <command> …`; see USAGE in args.ts. Services, containers, the cluster and image
// names come from the declaration through the wiring model, never from the command line.
// In GitHub Actions, failures become error annotations on the run summary.
const annotate = process.env.GITHUB_ACTIONS === 'true';

process.exitCode = await runCli(process.argv.slice(2), {
  loadWiring: () => wirePlatform(declarePlatform().synth()),
  // One SDK attempt per call: throttling is retried (and reported) by the deploy core, so the two
  // retry loops do not multiply and every pause is bounded by --timeout.
  createEcs: (region) => new ECSClient({ maxAttempts: 1, ...(region ? { region } : {}) }),
  createSsm: (region) => new SSMClient(region ? { region } : {}),
  clock: Date,
  sleep: (ms) => sleep(ms),
  out: (line) => console.log(line),
  err: (line) =>
    console.error(annotate && line.startsWith('deploy: ') ? `::error title=deploy::${line}` : line),
});
