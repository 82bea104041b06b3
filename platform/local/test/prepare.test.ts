import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from '../../../test/support/wait-for.ts';
import { FRONTEND, prepareFrontendAssets } from '../prepare.ts';

/**
 * The console's assets are built by one process at a time per checkout: a fresh clone whose test
 * files start the platform side by side (or two terminals) must not run two builds into one directory
 * (vite refuses the second: "Found another Vite build process for this project").
 * A stand-in vite counts its runs and builds only once it is told to, so the overlap holds by construction.
 */
function checkout(): { root: string; runs: string; release: string } {
  const root = mkdtempSync(join(tmpdir(), 'prepare-'));
  for (const source of FRONTEND.sources) {
    const path = join(root, source);
    mkdirSync(dirname(path), { recursive: true });
    if (source.endsWith('.ts') || source.endsWith('.html')) writeFileSync(path, '');
    else mkdirSync(path, { recursive: true });
  }
  const runs = join(root, 'runs');
  const release = join(root, 'release');
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  mkdirSync(dirname(vite), { recursive: true });
  writeFileSync(
    vite,
    `const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(runs)}, 'run\\n');
const wait = () => fs.existsSync(${JSON.stringify(release)}) ? build() : setTimeout(wait, 20);
const build = () => {
  fs.mkdirSync(${JSON.stringify(join(root, dirname(FRONTEND.outputIndex)))}, { recursive: true });
  fs.writeFileSync(${JSON.stringify(join(root, FRONTEND.outputIndex))}, '<html></html>');
};
wait();
`,
  );
  writeFileSync(join(root, 'node_modules', 'vite', 'package.json'), '{"type":"commonjs"}');
  return { root, runs, release };
}

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('building the console assets', () => {
  it('two starts of one checkout build once, and both find the assets built', async () => {
    const { root, runs, release } = checkout();
    roots.push(root);
    const first = prepareFrontendAssets(root, () => {});
    const second = prepareFrontendAssets(root, () => {});
    // Release the stand-in build only once a build has started, so both calls overlap it.
    await waitFor('the stand-in build to start', 60_000, () => existsSync(runs));
    writeFileSync(release, '');
    await Promise.all([first, second]);
    assert.equal(readFileSync(runs, 'utf8'), 'run\n');
    assert.ok(existsSync(join(root, FRONTEND.outputIndex)));
  });

  it('replaces the lock of a process that died while building', async () => {
    const { root, runs, release } = checkout();
    roots.push(root);
    const dead = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) => dead.once('exit', () => resolve(dead.pid ?? 0)));
    const lock = join(root, dirname(dirname(FRONTEND.outputIndex)), '.build-lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(join(lock, 'pid'), String(deadPid));
    writeFileSync(release, '');
    await prepareFrontendAssets(root, () => {});
    assert.equal(readFileSync(runs, 'utf8'), 'run\n');
    assert.equal(existsSync(lock), false, 'the lock is released after the build');
  });

  it('replaces a lock that names no holder at once (its maker died before naming itself)', async () => {
    const { root, runs, release } = checkout();
    roots.push(root);
    const lock = join(root, dirname(dirname(FRONTEND.outputIndex)), '.build-lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(release, '');
    // A lock is only ever put in place with its holder's pid in it, so one without a pid is dead.
    // Before, such a lock was held for the whole 10-minute wait: this race ends it long before that.
    const outcome = await Promise.race([
      prepareFrontendAssets(root, () => {}).then(() => 'built'),
      new Promise<string>((resolve) => setTimeout(resolve, 90_000, 'still waiting').unref()),
    ]);
    assert.equal(outcome, 'built');
    assert.equal(readFileSync(runs, 'utf8'), 'run\n');
    assert.equal(existsSync(lock), false, 'the lock is released after the build');
  });
});
