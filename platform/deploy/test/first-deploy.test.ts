import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { declarePlatform } from '../../../config/declaration.ts';
import { wirePlatform } from '../../wiring/index.ts';

/**
 * The first deploy on a fresh account, as the README gives it, and the deploy workflow: the same
 * steps in the same order, so the workflow's first run on a new account does what a person would.
 */

const root = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const section = readme.slice(readme.indexOf('### The account lifecycle'), readme.indexOf('### Rehearse'));
const workflow = parse(readFileSync(new URL('.github/workflows/deploy.yml', root), 'utf8')) as {
  jobs: Record<string, { needs?: string | string[]; steps: { run?: string; uses?: string }[] }>;
};

/** Each step of the README's numbered list, by what it does. */
const STEPS = [
  {
    id: 'bootstrap',
    readme: /npx cdk deploy "\*-bootstrap"/,
    job: (run: string) => run.includes('cdk deploy "*-bootstrap"'),
  },
  {
    id: 'images',
    readme: /npx berth images (--env \S+ )?--push/,
    job: (run: string) => run.includes('for image in'),
  },
  {
    id: 'seed',
    readme: /npx berth deploy seed (--env \S+ )?--image/,
    job: (run: string) => run.includes('npx berth deploy seed'),
  },
  {
    id: 'platform',
    readme: /npx cdk deploy "\*-platform"/,
    job: (run: string) => run.includes('cdk deploy "*-platform"'),
  },
  {
    id: 'rollout',
    readme: /npx berth deploy (--env \S+ )?--image/,
    job: (run: string) => /npx berth deploy (--env \S+\s+)?--image/.test(run),
  },
] as const;

/** A job's transitive prerequisites. */
function before(job: string): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    for (const need of [workflow.jobs[name]?.needs ?? []].flat()) {
      if (!seen.has(need)) {
        seen.add(need);
        visit(need);
      }
    }
  };
  visit(job);
  return seen;
}

describe('first deploy: README and deploy workflow', () => {
  it('the README lists the steps in the order bootstrap, images, seed, platform, rollout', () => {
    const positions = STEPS.map((s) => section.search(s.readme));
    assert.ok(
      positions.every((p) => p >= 0),
      `every step is in the README section: ${positions}`,
    );
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
    );
  });

  it('the workflow runs the same steps in the same order (a later step in the same job, or a job that needs the one before)', () => {
    const at = STEPS.map((step) => {
      // The first stage's jobs (every later stage repeats them, after it) and the one images job.
      const first = Object.keys(workflow.jobs)
        .find((id) => id.startsWith('bootstrap-'))!
        .slice('bootstrap-'.length);
      const ofFirstStage = Object.entries(workflow.jobs).filter(
        ([id]) => id === 'images' || id.endsWith(`-${first}`),
      );
      const found = ofFirstStage.flatMap(([id, job]) => {
        const index = job.steps.findIndex((s) => s.run && step.job(s.run));
        return index < 0 ? [] : [{ job: id, index }];
      });
      assert.equal(found.length, 1, `${step.id}: one job`);
      return found[0]!;
    });
    assert.deepEqual(
      at.map((a) => a.job),
      ['bootstrap-staging', 'images', 'infrastructure-staging', 'infrastructure-staging', 'rollout-staging'],
    );
    for (let i = 1; i < at.length; i++) {
      const [earlier, later] = [at[i - 1]!, at[i]!];
      assert.ok(
        earlier.job === later.job ? earlier.index < later.index : before(later.job).has(earlier.job),
        `${STEPS[i]!.id} runs after ${STEPS[i - 1]!.id}`,
      );
    }
  });

  it('both push exactly the images the wiring runs, to the repositories the bootstrap stack creates', () => {
    const images = wirePlatform(declarePlatform().synth())
      .images.map((i) => i.name)
      .sort();
    // The README's step is `berth images --push`: every image of the wiring (platform/cli/test/delivery-images.test.ts).
    assert.match(section, /npx berth images --env staging --push --registry "\$REG"/);
    const seeded = [...section.matchAll(/seed --env staging((?: --image [a-z-]+=REF)+)/g)][0]![1]!;
    assert.deepEqual([...seeded.matchAll(/--image ([a-z-]+)=/g)].map((m) => m[1]).sort(), images);
    const loop = workflow.jobs.images!.steps.find((s) => s.run?.includes('for image in'))!.run!;
    assert.deepEqual(/for image in ([a-z -]+);/.exec(loop)![1]!.split(' ').sort(), images);
  });
});
