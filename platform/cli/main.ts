/**
 * The platform CLI's process entry: `tsx platform/cli/main.ts <command> …` (this repository's npm
 * scripts `synth`, `preflight`, `start`, `deploy` and `fault` call it). See cli.ts.
 */
import { runCli } from './cli.ts';

// No AWS SDK Node-version warning from this process, before any client is made: what
// runtime/aws-sdk-node-warning.ts does for the services (the CLI may not import runtime/).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
// Exit once stdout and stderr are flushed, whatever handles a renderer left open (SDK sockets, timers).
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((r) => s.write('', r))));
process.exit(code);
