import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type RevisionSample, wilsonBounds } from '../comparison.ts';
import { decideGate, type GateInput, type GatePolicy, type GateVerdict, RULE_TEXT } from '../decision.ts';

interface Fixture {
  readonly about: string;
  readonly input: GateInput;
  readonly expect: {
    readonly hookStatus: GateVerdict['hookStatus'];
    readonly outcome: GateVerdict['outcome'];
    readonly reason?: string;
    readonly needsProbes?: boolean;
    readonly wholeRevision?: Record<string, string>;
  };
}

const FIXTURES = new URL('./fixtures/', import.meta.url);
const fixture = (file: string): Fixture =>
  JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as Fixture;

const POLICY: GatePolicy = {
  minimumVolume: { lines: 100, requests: 50 },
  deadlineSeconds: 600,
  deliverySeconds: 30,
  onScorerOutage: 'judge-on-errors',
};

const lines = (revision: string, scored: number, anomalous: number): RevisionSample => ({
  revision,
  lines: { received: scored, scored, anomalous },
  scorerFailures: 0,
  loadBalancer: null,
  classes: [],
});

describe('decideGate on the fixtures (functions/deployment-gate/test/fixtures)', () => {
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.json'))) {
    const { about, input, expect } = fixture(file);
    it(`${file}: ${about}`, () => {
      const verdict = decideGate(input);

      assert.equal(verdict.hookStatus, expect.hookStatus, verdict.reason);
      assert.equal(verdict.outcome, expect.outcome, verdict.reason);
      assert.equal(verdict.rule, RULE_TEXT[expect.outcome]);
      if (expect.reason !== undefined) assert.equal(verdict.reason, expect.reason);
      if (expect.needsProbes !== undefined) assert.equal(verdict.needsProbes, expect.needsProbes);
      for (const [signal, kind] of Object.entries(expect.wholeRevision ?? {})) {
        const whole = verdict.comparisons.find((c) => c.signal === signal && c.scope.startsWith('all '));
        assert.equal(whole?.kind, kind, `${signal} on the whole revision`);
      }
    });
  }
});

describe('decideGate: rules', () => {
  it('dilution: the flooded route passes, the failing route is named; flooding harder changes nothing', () => {
    const { input } = fixture('dilution.json');
    const flood = (sample: RevisionSample, times: number): RevisionSample => {
      const healthz = sample.classes.find((c) => c.name === 'GET /healthz')!;
      const more = { lines: healthz.lines.total * (times - 1), bad: healthz.lines.bad * (times - 1) };
      return {
        ...sample,
        lines: {
          received: sample.lines.received + more.lines,
          scored: sample.lines.scored + more.lines,
          anomalous: sample.lines.anomalous + more.bad,
        },
        classes: sample.classes.map((c) =>
          c === healthz
            ? {
                ...c,
                lines: { bad: c.lines.bad * times, total: c.lines.total * times },
                requests: { bad: 0, total: c.requests.total * times },
              }
            : c,
        ),
      };
    };
    for (const times of [1, 10, 100]) {
      const verdict = decideGate({
        ...input,
        current: flood(input.current, times),
        baseline: flood(input.baseline!, times),
      });
      assert.equal(verdict.hookStatus, 'FAILED', `flood ×${times}: ${verdict.reason}`);
      assert.equal(verdict.comparisons[0]?.scope, 'GET /api/services');
    }
  });

  it('scorer outage with the roll-back policy fails, naming the failed calls', () => {
    const { input } = fixture('scorer-outage.json');
    const verdict = decideGate({ ...input, policy: { ...input.policy, onScorerOutage: 'roll-back' } });
    assert.equal(verdict.hookStatus, 'FAILED');
    assert.equal(verdict.outcome, 'scorer-outage-failed');
    assert.equal(verdict.reason, 'the model endpoint failed 12 calls; 0 of 300 lines of frontend:5 scored');
  });

  it('scorer outage with judge-on-errors waits while the errors lack volume, and fails at the deadline', () => {
    const outage: RevisionSample = {
      revision: 'backend:2',
      lines: { received: 200, scored: 0, anomalous: 0 },
      scorerFailures: 5,
      loadBalancer: null,
      classes: [],
    };
    const early = decideGate({ current: outage, baseline: null, elapsedSeconds: 10, policy: POLICY });
    assert.equal(early.hookStatus, 'IN_PROGRESS');
    assert.equal(
      early.reason,
      'no request to judge the errors on; 0 of 200 lines scored (scorer outage) (590s left)',
    );
    const late = decideGate({ current: outage, baseline: null, elapsedSeconds: 600, policy: POLICY });
    assert.equal(late.hookStatus, 'FAILED');
    assert.equal(late.outcome, 'too-little-traffic');
  });

  it('an old revision whose scorer fails is no excuse: a new revision with enough scored lines is judged', () => {
    const verdict = decideGate({
      current: lines('b:2', 500, 200),
      baseline: { ...lines('b:1', 0, 0), scorerFailures: 9 },
      elapsedSeconds: 10,
      policy: POLICY,
    });
    assert.equal(verdict.outcome, 'worse');
  });

  it('a worse signal fails at once, even while another still lacks volume', () => {
    const verdict = decideGate({
      current: { ...lines('f:2', 1000, 300), loadBalancer: { bad: 0, total: 10 } },
      baseline: { ...lines('f:1', 1000, 10), loadBalancer: { bad: 0, total: 10 } },
      elapsedSeconds: 5,
      policy: POLICY,
    });
    assert.equal(verdict.hookStatus, 'FAILED');
    assert.deepEqual(
      verdict.comparisons.map((c) => [c.signal, c.kind]),
      [
        ['anomalies', 'worse'],
        ['errors', 'insufficient'],
      ],
    );
  });

  it('a class is compared only once it has ten events on the new revision', () => {
    const current: RevisionSample = {
      ...lines('b:2', 500, 9),
      classes: [
        { name: 'GET /a', lines: { bad: 9, total: 9 }, requests: { bad: 0, total: 9 } },
        { name: 'GET /b', lines: { bad: 0, total: 491 }, requests: { bad: 0, total: 491 } },
      ],
    };
    const verdict = decideGate({
      current,
      baseline: lines('b:1', 5000, 50),
      elapsedSeconds: 5,
      policy: POLICY,
    });
    assert.equal(verdict.hookStatus, 'SUCCEEDED', verdict.reason);
    assert.deepEqual(verdict.comparisons.map((c) => c.scope).sort(), [
      'GET /b',
      'GET /b',
      'all lines',
      'all requests',
    ]);
  });

  it('answers with no line yet, sooner than lines take to arrive, are not a silent revision', () => {
    const { input } = fixture('silent-revision.json');
    const early = decideGate({ ...input, elapsedSeconds: input.policy.deliverySeconds - 1 });
    assert.equal(early.outcome, 'waiting');
    assert.equal(decideGate(input).outcome, 'logging-broken');
  });

  it('with no traffic and no probes answered, it waits (probing) rather than calling the logging broken', () => {
    const verdict = decideGate({
      current: lines('b:2', 0, 0),
      baseline: lines('b:1', 0, 0),
      elapsedSeconds: 5,
      policy: POLICY,
      probes: { paths: ['/healthz'], sent: 3, answered: 3 },
    });
    assert.equal(verdict.outcome, 'waiting');
    assert.equal(verdict.needsProbes, true);
  });

  it('property: identical samples never fail, at any volume', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 5000 }),
        (n, p, elapsed) => {
          const sample = lines('s:1', n, Math.floor(n * p));
          const verdict = decideGate({
            current: { ...sample, revision: 's:2' },
            baseline: sample,
            elapsedSeconds: elapsed,
            policy: POLICY,
          });
          return verdict.hookStatus !== 'FAILED' || verdict.outcome === 'too-little-traffic';
        },
      ),
    );
  });

  it('property: more of the same healthy traffic on both revisions never turns a failing verdict into a pass', () => {
    const { input } = fixture('dilution.json');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (extra) => {
        const add = (sample: RevisionSample, share: number): RevisionSample => {
          const n = Math.round(extra * share);
          return {
            ...sample,
            lines: {
              received: sample.lines.received + n,
              scored: sample.lines.scored + n,
              anomalous: sample.lines.anomalous,
            },
            classes: [
              ...sample.classes,
              { name: 'GET /flood', lines: { bad: 0, total: n }, requests: { bad: 0, total: n } },
            ],
          };
        };
        return (
          decideGate({ ...input, current: add(input.current, 0.1), baseline: add(input.baseline!, 0.9) })
            .hookStatus === 'FAILED'
        );
      }),
    );
  });

  it('wilsonBounds: [0, 1] without events, inside [0, 1] and around the rate otherwise', () => {
    assert.deepEqual(wilsonBounds(0, 0, 3), { lower: 0, upper: 1 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, p) => {
          const bad = Math.floor(n * p);
          const { lower, upper } = wilsonBounds(bad, n, 3);
          return lower >= 0 && upper <= 1 && lower <= bad / n + 1e-12 && upper >= bad / n - 1e-12;
        },
      ),
    );
  });
});
