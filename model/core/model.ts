import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { effectiveBudget, minBudget, scoreOfP, thresholdForBudget } from '../../contracts/alert-budget.ts';
import {
  type FeatureVector,
  type LogEvent,
  type ModelInfo,
  type Prediction,
  type PredictionRequest,
  type PredictionResponse,
  vectorsOf,
} from '../../contracts/prediction.ts';
import { type LogLevel, type ParsedLine, parseLogLine } from '../features/parse.ts';
import { isClientError, scoringLevel } from '../features/severity.ts';
import { TemplateMiner } from '../features/template-miner.ts';
import {
  ARTIFACT_SCHEMA_VERSION,
  MODEL_FILE,
  type ModelArtifact,
  ModelArtifactSchema,
  SUPPORTED_SCHEMA_VERSIONS,
} from './artifact.ts';
import { reconstructionError } from './autoencoder.ts';
import { BatchContext, type LineScore } from './batch-context.ts';
import { type LineFeatures, LineFeaturizer } from './line-features.ts';
import { calibrate, eventMillis, levelName, linePValue, round6 } from './model-helpers.ts';
import { ParamShiftIndex } from './param-stats.ts';
import { rawLineScore } from './scoring.ts';
import { RULE_REASONS, SESSION_RULES, type SessionEvidence, SessionScorer } from './session-model.ts';
import { windowCounts, windowsOf } from './window-stats.ts';

/** The shipped default artifact, used when no directory is given (fresh clone, local runtime). */
export const DEFAULT_MODEL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../artifacts/default');

export { type LineScore, WINDOW_RAISE } from './batch-context.ts';
export { calibrate } from './model-helpers.ts';

/**
 * Distance outside a parameter's training range, in robust spreads, at which the shift alone scores
 * 0.5 (the decision threshold). Four spreads beyond the 0.5%–99.5% training range is a factor of
 * at least e^0.8 ≈ 2.2 on the value, and usually far more: ordinary jitter never gets there.
 */
export const PARAM_SHIFT_DISTANCE = 4;
/** A scored session (a request, block or task's events). */
export interface SessionScore {
  /** {@link scoreOfP} of `p`: 0.5 at p = 0.001. */
  readonly score: number;
  /** `p` within the artifact's budget (or the finest one its training sessions support). */
  readonly anomaly: boolean;
  /** The conformal p-value of the session's combined evidence. */
  readonly p: number;
  /**
   * The kinds of evidence it shows (`new-event`, `new-transition`, `new-window`, `new-length`,
   * `new-event-counts`), then the evidence itself: `new-event:<template>`, `new-transition:<a> -> <b>`,
   * `length:<n> nearest <m>`, `nearest:<training session> distance <d>`.
   */
  readonly reasons: string[];
  readonly evidence: SessionEvidence;
}

/** Most evidence items of one kind listed in a session's reasons. */
const LISTED_EVIDENCE = 3;

/**
 * The anomaly model: template statistics plus autoencoders; every score is a conformal p-value on the
 * budget scale (`alert-budget.ts`), flagged within the artifact's budget. Scoring is pure and
 * synchronous (no I/O, no tfjs at inference), so the server, the sidecar and the Lambdas can embed it.
 *
 * @example
 * const model = await loadModel(DEFAULT_MODEL_DIR);
 * model.score({ logs: [{ timestamp: Date.now(), message: 'kernel panic: out of memory' }] });
 */
export class AnomalyModel {
  readonly info: ModelInfo;
  readonly miner: TemplateMiner;
  /** The line threshold: the score of the artifact's budget, or of the finest its lines support. */
  readonly threshold: number;
  /** The session threshold, likewise for its training sessions (NaN without a session model). */
  readonly sessionThreshold: number;
  private readonly featurizer: LineFeaturizer;
  private readonly sessions: SessionScorer | undefined;

  private readonly params: ParamShiftIndex;
  private readonly context: BatchContext;

  constructor(readonly artifact: ModelArtifact) {
    this.miner = TemplateMiner.fromJSON(artifact.miner);
    this.featurizer = new LineFeaturizer({ miner: this.miner, totalLines: artifact.lines.totalLines });
    const lines = artifact.lines.totalLines;
    this.threshold = thresholdForBudget(effectiveBudget(artifact.budget, lines));
    this.info = {
      name: artifact.name,
      version: artifact.version,
      threshold: this.threshold,
      budget: artifact.budget,
      minBudget: minBudget(lines),
    };
    this.sessions = artifact.sessions ? new SessionScorer(artifact.sessions) : undefined;
    this.sessionThreshold = artifact.sessions
      ? thresholdForBudget(effectiveBudget(artifact.budget, artifact.sessions.n))
      : Number.NaN;
    this.context = new BatchContext(artifact, this.threshold, this.sessions);
    this.params = new ParamShiftIndex(artifact.params ?? [], (id) =>
      this.miner.template(id)?.template.split(' '),
    );
  }

  /** Scores a prediction request (contracts/prediction.ts), predictions in request order. */
  score(request: PredictionRequest): PredictionResponse {
    const predictions: Prediction[] =
      'logs' in request
        ? this.scoreEvents(request.logs).map(({ score, anomaly, template, reasons }) => ({
            score,
            anomaly,
            template,
            reasons,
          }))
        : vectorsOf(request).map((vector) => this.scoreVector(vector));
    return { predictions, model: this.info };
  }

  /**
   * Scores a batch of raw log events in order, each line on its own and in its context: its window's
   * template counts (a burst of its template, an unusual mix) and, when lines name a request, block or
   * task id and the model knows sessions, its session's transitions.
   */
  scoreEvents(events: readonly LogEvent[]): LineScore[] {
    const parsed = events.map((e) => parseLogLine(e.message));
    const features = parsed.map((p) => this.featurizer.featurize(p.message, scoringLevel(p)));
    const scores = features.map((f, i) => this.scoreParsed(f, parsed[i]!));
    if (this.artifact.windows && events.length > 0) {
      this.context.applyWindows(
        scores,
        features,
        parsed.map((p, i) => p.timestamp ?? eventMillis(events[i]!.timestamp)),
        parsed.map(isClientError),
      );
    }
    if (this.sessions && events.length > 1) {
      this.context.applySessions(
        scores,
        features,
        parsed.map((p) => p.message),
      );
    }
    return scores;
  }

  /**
   * The windows of a batch and each window's count-vector score (0..1, 0.5 = threshold), for reports;
   * empty when the model has no window statistics.
   */
  scoreWindows(events: readonly LogEvent[]): { readonly window: number[]; readonly score: number[] } {
    const model = this.artifact.windows;
    if (!model) return { window: [], score: [] };
    const parsed = events.map((e) => parseLogLine(e.message));
    const window = windowsOf(
      parsed.map((p, i) => p.timestamp ?? eventMillis(events[i]!.timestamp)),
      model,
    );
    const ids = parsed.map((p) => this.featurizer.featurize(p.message, scoringLevel(p)).templateId ?? -1);
    return { window, score: this.context.windowScores(windowCounts(window, ids)) };
  }

  /** Scores one raw log event on its own: the message is parsed for its level, then featurised. */
  scoreEvent(event: LogEvent): LineScore {
    const parsed = parseLogLine(event.message);
    return this.scoreParsed(this.featurizer.featurize(parsed.message, scoringLevel(parsed)), parsed);
  }

  /**
   * A parsed line's score: a client-caused error ({@link isClientError}) is scored at INFO (done by the
   * caller's featurisation) and says so, so the record explains why a WARN line stayed quiet.
   */
  private scoreParsed(features: LineFeatures, parsed: ParsedLine): LineScore {
    const score = this.scoreFeatures(features, parsed.message);
    if (isClientError(parsed)) score.reasons.push('client-error');
    return score;
  }

  /** Scores a message whose header has already been split off. */
  scoreMessage(message: string, level: LogLevel | undefined): LineScore {
    return this.scoreFeatures(this.featurizer.featurize(message, level), message);
  }

  /** Features of a message (exposed for training-time threshold fitting and the benchmark). */
  featurize(message: string, level: LogLevel | undefined, leaveOneOut = false): LineFeatures {
    return this.featurizer.featurize(message, level, leaveOneOut);
  }

  /**
   * The calibrated score of precomputed features; with the message, its numeric parameters are
   * checked against their training ranges too.
   */
  scoreFeatures(features: LineFeatures, message?: string): LineScore {
    const contentSurprise = this.contentSurprise(features.content);
    const raw = rawLineScore(features, contentSurprise);
    let score = scoreOfP(linePValue(this.artifact.lines, raw));
    const reasons: string[] = [];
    if (features.novel) reasons.push('new-template');
    else if (features.rarity >= 0.75) reasons.push('rare-template');
    if (features.severity.level >= 0.4) reasons.push(`severity:${levelName(features.severity.level)}`);
    if (features.severity.failureWord) reasons.push('failure-word');
    if (contentSurprise >= 1) reasons.push('unusual-content');
    if (message !== undefined && features.templateId !== undefined && !features.novel) {
      const shift = this.params.shiftOf(features.templateId, message);
      if (shift && shift.distance > 0) {
        const shifted = calibrate(shift.distance, { rawThreshold: PARAM_SHIFT_DISTANCE, spread: 1 });
        if (shifted >= this.threshold) reasons.push(`param-shift:${shift.position}`);
        score = Math.max(score, shifted);
      }
    }
    return { score, anomaly: score >= this.threshold, template: features.template, reasons, raw };
  }

  /**
   * Most lines match a known template, whose content vector the featuriser hands out as the same
   * (never mutated) array each time: its reconstruction error is computed once per array.
   */
  private readonly surpriseByContent = new WeakMap<Float64Array, number>();
  private contentSurprise(content: Float64Array): number {
    const cached = this.surpriseByContent.get(content);
    if (cached !== undefined) return cached;
    const { lines } = this.artifact;
    const surprise = Math.min(1, reconstructionError(lines.autoencoder, content) / lines.errorScale);
    this.surpriseByContent.set(content, surprise);
    return surprise;
  }

  /** Scores a session of messages (a block's, request's or task's events, in order). */
  scoreSession(messages: readonly string[]): SessionScore {
    if (!this.sessions) throw new Error('this model was not trained on sessions');
    // A message no template matches is a new event; distinct ones are distinct events (ids −1, −2, …).
    const unknown = new Map<string, number>();
    const ids = messages.map((m) => {
      const id = this.miner.match(m)?.templateId;
      if (id !== undefined) return id;
      const text = this.miner.tokenize(m).join(' ');
      if (!unknown.has(text)) unknown.set(text, -1 - unknown.size);
      return unknown.get(text)!;
    });
    const { p, evidence } = this.sessions.score(ids);
    const score = scoreOfP(p);
    const unknownText = new Map([...unknown].map(([text, id]) => [id, text] as const));
    return {
      score,
      anomaly: score >= this.sessionThreshold,
      p,
      reasons: this.sessionReasons(evidence, unknownText),
      evidence,
    };
  }

  /** The kinds of evidence a session shows, then the evidence, in the template's own words. */
  private sessionReasons(e: SessionEvidence, unknown: ReadonlyMap<number, string>): string[] {
    const name = (id: string | number) =>
      id === '^'
        ? '(start)'
        : id === '$'
          ? '(end)'
          : (this.miner.template(Number(id))?.template ?? unknown.get(Number(id)) ?? '(unknown)');
    const reasons: string[] = SESSION_RULES.filter((rule) => e.values[rule] > 0).map(
      (rule) => RULE_REASONS[rule],
    );
    for (const id of e.newEvents.slice(0, LISTED_EVIDENCE)) reasons.push(`new-event:${name(id)}`);
    for (const key of e.newTransitions.slice(0, LISTED_EVIDENCE)) {
      reasons.push(`new-transition:${key.split('>').map(name).join(' -> ')}`);
    }
    if (e.values.length > 0) reasons.push(`length:${e.length} nearest ${e.nearestLength}`);
    if (e.nearest && e.nearest.distance > 0) {
      reasons.push(`nearest:${e.nearest.id} distance ${round6(e.nearest.distance)}`);
    }
    return reasons;
  }

  /** The legacy four-feature input: deviation of the message length from the training lines. */
  scoreVector(vector: FeatureVector): Prediction {
    const { seed } = this.artifact;
    const z = Math.abs(Math.log1p(Math.max(0, vector[1]!)) - seed.logLengthMean) / seed.logLengthStd;
    const score = calibrate(z, seed.calibration);
    return { score, anomaly: score >= this.threshold, reasons: ['seed-features:message-length'] };
  }
}

/** Loads and validates an artifact directory (`model.json`). */
export async function loadModel(dir: string = DEFAULT_MODEL_DIR): Promise<AnomalyModel> {
  const path = join(dir, MODEL_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the model artifact ${path}: ${(error as Error).message}`);
  }
  const parsed = ModelArtifactSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const version = (JSON.parse(text) as { schemaVersion?: unknown }).schemaVersion;
    if (typeof version === 'number' && version < ARTIFACT_SCHEMA_VERSION) {
      throw new Error(
        `${path} has schema version ${version}, from before the alert budget (version ${ARTIFACT_SCHEMA_VERSION}); retrain it: npm run model:train -- --format … --input … --out …`,
      );
    }
    throw new Error(
      `${path} is not a model artifact of schema version ${SUPPORTED_SCHEMA_VERSIONS.join(' or ')}: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return new AnomalyModel(parsed.data);
}
