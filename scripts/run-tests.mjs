#!/usr/bin/env node
// Node 20's test runner takes no glob patterns, so the test files are listed here.
// Usage: node scripts/run-tests.mjs [folder-or-file ...]   (default: the whole repository)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const skip = new Set(['node_modules', '.git', 'cdk.out', 'dist', '.local', 'coverage']);

function collect(path, out) {
  const stat = statSync(path);
  if (stat.isFile()) {
    if (/\.test\.tsx?$/.test(path)) out.push(path);
    return out;
  }
  for (const entry of readdirSync(path).sort()) {
    if (!skip.has(entry)) collect(join(path, entry), out);
  }
  return out;
}

const targets = process.argv.slice(2);
const files = (targets.length ? targets : [root]).flatMap((t) => collect(t, []));
if (files.length === 0) {
  console.error('run-tests: no *.test.ts files found under', targets.join(' ') || root);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    ...files.map((f) => relative(process.cwd(), f)),
  ],
  {
    stdio: 'inherit',
    // The test processes are ours too: no AWS SDK Node-version warning in their output (see
    // runtime/aws-sdk-node-warning.ts); an explicit value in the caller's environment is kept.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  },
);
process.exit(result.status ?? 1);
