import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FeatureVector,
  type LogEvent,
  type ModelInfo,
  type Prediction,
  type PredictionRequest,
  type PredictionResponse,
  vectorsOf,
} from '../../contracts/prediction.ts';
import { parseLogLine } from '../features/parse.ts';
import { TemplateMiner } from '../features/template-miner.ts';
import { ARTIFACT_SCHEMA_VERSION, MODEL_FILE, type ModelArtifact, ModelArtifactSchema } from './artifact.ts';
import { reconstructionError } from './autoencoder.ts';
import { type LineFeatures, LineFeaturizer } from './line-features.ts';
import { rawLineScore, rawSessionScore, type SessionEvidence, sessionEvidence } from './scoring.ts';

/** The shipped default artifact, used when no directory is given (fresh clone, local runtime). */
export const DEFAULT_MODEL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../artifacts/default');

/** The calibrated decision threshold: raw scores are mapped so the training threshold lands here. */
export const CALIBRATED_THRESHOLD = 0.5;

/** A scored line with its explanation. */
export interface LineScore extends Required<Pick<Prediction, 'score' | 'anomaly' | 'template' | 'reasons'>> {
  readonly raw: number;
}

/** A scored session (a request, block or task's events). */
export interface SessionScore {
  readonly score: number;
  readonly anomaly: boolean;
  readonly raw: number;
  readonly reasons: string[];
}

/**
 * The anomaly model: template statistics plus autoencoders, calibrated to 0..1. Scoring is pure and
 * synchronous (no I/O, no tfjs at inference), so the server, the sidecar and the Lambdas can embed it.
 *
 * @example
 * const model = await loadModel(DEFAULT_MODEL_DIR);
 * model.score({ logs: [{ timestamp: Date.now(), message: 'kernel panic: out of memory' }] });
 */
export class AnomalyModel {
  readonly info: ModelInfo;
  readonly miner: TemplateMiner;
  private readonly featurizer: LineFeaturizer;

  constructor(readonly artifact: ModelArtifact) {
    this.miner = TemplateMiner.fromJSON(artifact.miner);
    this.featurizer = new LineFeaturizer({ miner: this.miner, totalLines: artifact.lines.totalLines });
    this.info = { name: artifact.name, version: artifact.version, threshold: CALIBRATED_THRESHOLD };
  }

  /** Scores a prediction request (contracts/prediction.ts), predictions in request order. */
  score(request: PredictionRequest): PredictionResponse {
    const predictions: Prediction[] =
      'logs' in request
        ? request.logs.map((event) => {
            const { score, anomaly, template, reasons } = this.scoreEvent(event);
            return { score, anomaly, template, reasons };
          })
        : vectorsOf(request).map((vector) => this.scoreVector(vector));
    return { predictions, model: this.info };
  }

  /** Scores one raw log event: the message is parsed for its level, then featurised. */
  scoreEvent(event: LogEvent): LineScore {
    const parsed = parseLogLine(event.message);
    return this.scoreMessage(parsed.message, parsed.level);
  }

  /** Scores a message whose header has already been split off. */
  scoreMessage(message: string, level: Parameters<LineFeaturizer['featurize']>[1]): LineScore {
    return this.scoreFeatures(this.featurizer.featurize(message, level));
  }

  /** Features of a message (exposed for training-time threshold fitting and the benchmark). */
  featurize(
    message: string,
    level: Parameters<LineFeaturizer['featurize']>[1],
    leaveOneOut = false,
  ): LineFeatures {
    return this.featurizer.featurize(message, level, leaveOneOut);
  }

  /** The calibrated score of precomputed features. */
  scoreFeatures(features: LineFeatures): LineScore {
    const { lines } = this.artifact;
    const contentSurprise = Math.min(
      1,
      reconstructionError(lines.autoencoder, features.content) / lines.errorScale,
    );
    const raw = rawLineScore(features, contentSurprise);
    const score = calibrate(raw, lines.calibration);
    const reasons: string[] = [];
    if (features.novel) reasons.push('new-template');
    else if (features.rarity >= 0.75) reasons.push('rare-template');
    if (features.severity.level >= 0.4) reasons.push(`severity:${levelName(features.severity.level)}`);
    if (features.severity.failureWord) reasons.push('failure-word');
    if (contentSurprise >= 1) reasons.push('unusual-content');
    return { score, anomaly: score >= CALIBRATED_THRESHOLD, template: features.template, reasons, raw };
  }

  /** Scores a session of messages (a block's, request's or task's events, in order). */
  scoreSession(messages: readonly string[]): SessionScore {
    const sessions = this.artifact.sessions;
    if (!sessions) throw new Error('this model was not trained on sessions');
    const evidence = this.sessionEvidenceOf(messages, false);
    const raw = rawSessionScore(evidence);
    const score = calibrate(raw, sessions.calibration);
    const reasons: string[] = [];
    if (evidence.novelEvents > 0) reasons.push('new-event');
    if (evidence.novelTransitions > 0) reasons.push('new-transition');
    if (evidence.novelCountVector) reasons.push('new-event-counts');
    if (evidence.countSurprise >= 1) reasons.push('unusual-counts');
    return { score, anomaly: score >= CALIBRATED_THRESHOLD, raw, reasons };
  }

  /** What a session shows against the training sessions (exposed for threshold fitting). */
  sessionEvidenceOf(messages: readonly string[], leaveOneOut: boolean): SessionEvidence {
    const sessions = this.artifact.sessions!;
    const ids = messages.map((m) => this.miner.match(m)?.templateId ?? -1);
    return sessionEvidence(ids, this.sessionIndex(), leaveOneOut, (row) =>
      Math.min(1, reconstructionError(sessions.autoencoder, row) / sessions.errorScale),
    );
  }

  private sessionIndexCache: ReturnType<typeof buildSessionIndex> | undefined;
  private sessionIndex() {
    this.sessionIndexCache ??= buildSessionIndex(this.artifact.sessions!);
    return this.sessionIndexCache;
  }

  /** The legacy four-feature input: deviation of the message length from the training lines. */
  scoreVector(vector: FeatureVector): Prediction {
    const { seed } = this.artifact;
    const z = Math.abs(Math.log1p(Math.max(0, vector[1]!)) - seed.logLengthMean) / seed.logLengthStd;
    const score = calibrate(z, seed.calibration);
    return { score, anomaly: score >= CALIBRATED_THRESHOLD, reasons: ['seed-features:message-length'] };
  }
}

function buildSessionIndex(sessions: NonNullable<ModelArtifact['sessions']>) {
  return {
    events: new Set(sessions.events),
    transitions: new Set(sessions.transitions),
    countVectors: new Map(sessions.countVectors),
    slots: new Map(sessions.slots.map((id, i) => [id, i] as const)),
  };
}

/** Logistic calibration centred on the training threshold, rounded so equal evidence ties exactly. */
export function calibrate(raw: number, calibration: { rawThreshold: number; spread: number }): number {
  const score = 1 / (1 + Math.exp(-(raw - calibration.rawThreshold) / calibration.spread));
  return Math.round(score * 1e6) / 1e6;
}

function levelName(level: number): string {
  return level >= 1 ? 'FATAL' : level >= 0.9 ? 'CRITICAL' : level >= 0.7 ? 'ERROR' : 'WARN';
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
    throw new Error(
      `${path} is not a model artifact of schema version ${ARTIFACT_SCHEMA_VERSION}: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return new AnomalyModel(parsed.data);
}
