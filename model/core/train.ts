import { createHash } from 'node:crypto';
import { type ParsedLine, parseLogLine } from '../features/parse.ts';
import { sessionIdOf } from '../features/session.ts';
import { scoringLevel } from '../features/severity.ts';
import { TemplateMiner } from '../features/template-miner.ts';
import { ARTIFACT_SCHEMA_VERSION, type ModelArtifact, type ModelMetadata } from './artifact.ts';
import { reconstructionError, trainAutoencoder } from './autoencoder.ts';
import {
  calibrationFrom,
  conformalCalibration,
  quantile,
  ruleHolds,
  THRESHOLD_QUANTILE,
} from './calibration.ts';
import { LineFeaturizer } from './line-features.ts';
import { AnomalyModel } from './model.ts';
import { fitParamStats } from './param-stats.ts';
import {
  countKey,
  countRow,
  RULE_RAW,
  rawLineScore,
  rawSessionScore,
  sessionEvidence,
  sessionSupport,
  transitionKeys,
} from './scoring.ts';
import {
  chooseWindowSpec,
  MIN_WINDOW_LINES,
  windowCounts,
  windowRow,
  windowSize,
  windowsOf,
} from './window-stats.ts';

/**
 * Training: mine templates, count them, fit the autoencoders (tfjs), then fit the threshold on the
 * training data alone by leave-one-out scoring (each training item scored as if it had not been
 * counted, so items seen once in training look as new as they will in production).
 */

/** Settings shared by both trainers. */
export interface TrainOptions {
  readonly name?: string;
  readonly version?: string;
  /** Seed of every random choice (weight initialisation). @default 42 */
  readonly seed?: number;
  /** Autoencoder epochs. @default 30 */
  readonly epochs?: number;
  /** SHA-256 of the training input, recorded in the metadata. @default - hash of the items */
  readonly dataSha256?: string;
  /** How the input was read, recorded in the metadata. @default 'lines' */
  readonly format?: ModelMetadata['format'];
}

export interface TrainedModel {
  readonly artifact: ModelArtifact;
  readonly metadata: ModelMetadata;
}

/**
 * Sessions found in training lines (by {@link sessionIdOf}) that it takes to fit a session model: fewer
 * say too little about which sequences are normal.
 */
export const MIN_LINE_SESSIONS = 20;
/** Most templates whose per-window maximum is kept in the artifact (the most frequent ones). */
export const MAX_WINDOW_TEMPLATES = 4096;
/** Templates with their own slot in a count-vector autoencoder; the rest share one. */
export const COUNT_SLOTS = 63;
const WINDOW_SLOTS = 31;
/** Training windows needed before the window autoencoder's 99% error quantile is trusted. */
export const MIN_AUTOENCODER_WINDOWS = 100;

/**
 * Trains on raw log lines (headers included: levels, timestamps and messages are parsed out): line
 * statistics, numeric parameter statistics, per-window template counts, and a session model when
 * the lines carry request, block or task ids.
 */
export async function trainOnLines(
  lines: readonly string[],
  options: TrainOptions = {},
): Promise<TrainedModel> {
  if (lines.length < 2) throw new Error(`training needs at least 2 lines; got ${lines.length}`);
  // Lines are learnt at the level they will be scored at (a client-caused error counts as INFO).
  const parsed = lines.map((line) => {
    const p = parseLogLine(line);
    return p.status === undefined ? p : { ...p, level: scoringLevel(p) };
  });
  const miner = new TemplateMiner();
  for (const p of parsed) miner.add(p.message);
  const lineModel = await fitLineModel(miner, parsed, options);
  // Ids are taken after mining finished, so every line maps onto the final templates.
  const ids = parsed.map((p) => miner.match(p.message)?.templateId ?? -1);
  const bySession = new Map<string, number[]>();
  for (let i = 0; i < parsed.length; i++) {
    const key = sessionIdOf(parsed[i]!.message);
    if (key === undefined) continue;
    const list = bySession.get(key);
    if (list) list.push(ids[i]!);
    else bySession.set(key, [ids[i]!]);
  }
  const sequences = [...bySession.values()].filter((s) => s.length >= 2);
  const artifact: ModelArtifact = {
    ...lineModel,
    params: fitParams(miner, parsed, ids),
    windows: await fitWindowModel(
      ids,
      parsed.map((p) => p.timestamp),
      options,
    ),
    sessions: sequences.length >= MIN_LINE_SESSIONS ? await fitSessionModel(sequences, options) : undefined,
  };
  return finish(artifact, options, lines.length, () => hashItems(lines));
}

/** Trains on sessions of events (normal sessions only): line statistics and sequence statistics. */
export async function trainOnSessions(
  sessions: readonly (readonly string[])[],
  options: TrainOptions = {},
): Promise<TrainedModel> {
  if (sessions.length < 2) throw new Error(`training needs at least 2 sessions; got ${sessions.length}`);
  const miner = new TemplateMiner();
  const parsed = sessions.flatMap((events) => events.map((message) => ({ message })));
  for (const p of parsed) miner.add(p.message);
  const lineModel = await fitLineModel(miner, parsed, options);
  // Ids are taken after mining finished, so every session maps onto the final templates.
  const idSessions = sessions.map((events) => events.map((m) => miner.match(m)?.templateId ?? -1));
  const ids = parsed.map((p) => miner.match(p.message)?.templateId ?? -1);
  const artifact: ModelArtifact = {
    ...lineModel,
    params: fitParams(miner, parsed, ids),
    sessions: await fitSessionModel(idSessions, options),
  };
  return finish(artifact, options, sessions.length, () => hashItems(sessions.map((s) => s.join('\n'))));
}

function fitParams(
  miner: TemplateMiner,
  parsed: readonly { message: string }[],
  ids: readonly number[],
): ModelArtifact['params'] {
  const samples = parsed.flatMap((p, i) =>
    ids[i]! >= 0 ? [{ templateId: ids[i]!, message: p.message }] : [],
  );
  return fitParamStats(samples, (id) => miner.template(id)?.template.split(' '));
}

/** Sequence statistics of normal sessions of template ids (`-1`: no template matched). */
async function fitSessionModel(
  idSessions: readonly (readonly number[])[],
  options: TrainOptions,
): Promise<NonNullable<ModelArtifact['sessions']>> {
  const eventSet = new Set<number>();
  const transitions = new Set<string>();
  const countVectors = new Map<string, number>();
  const frequency = new Map<number, number>();
  for (const ids of idSessions) {
    for (const id of ids) {
      eventSet.add(id);
      frequency.set(id, (frequency.get(id) ?? 0) + 1);
    }
    for (const key of transitionKeys(ids)) transitions.add(key);
    const key = countKey(ids);
    countVectors.set(key, (countVectors.get(key) ?? 0) + 1);
  }
  // The most frequent templates get their own slot; rarer ones share one.
  const slots = topByFrequency(frequency, COUNT_SLOTS);
  const slotIndex = new Map(slots.map((id, i) => [id, i] as const));
  const rows = idSessions.map((ids) => Array.from(countRow(ids, slotIndex)));
  const autoencoder = await trainAutoencoder(rows, {
    seed: (options.seed ?? 42) + 10,
    epochs: options.epochs ?? 30,
    hiddenSize: Math.min(8, slots.length + 1),
  });
  const errors = rows.map((row) => reconstructionError(autoencoder, row));
  const errorScale = Math.max(1e-6, quantile(errors, THRESHOLD_QUANTILE));
  const index = { events: eventSet, transitions, countVectors, slots: slotIndex };
  const support = sessionSupport(idSessions);
  const evidence = idSessions.map((ids) =>
    sessionEvidence(
      ids,
      index,
      true,
      (row) => Math.min(1, reconstructionError(autoencoder, row) / errorScale),
      support,
    ),
  );
  const rules = {
    events: ruleHolds(evidence.filter((e) => e.novelEvents > 0).length, evidence.length),
    transitions: ruleHolds(evidence.filter((e) => e.novelTransitions > 0).length, evidence.length),
  };
  // The conformal threshold is taken over the evidence without rules: it decides what no rule covers.
  const raws = evidence.map((e) => rawSessionScore(e));
  return {
    events: [...eventSet].sort((a, b) => a - b),
    transitions: [...transitions].sort(),
    countVectors: [...countVectors.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    slots,
    autoencoder,
    errorScale,
    calibration: conformalCalibration(raws, RULE_RAW),
    rules,
  };
}

/**
 * Per-window template counts of the training lines: the busiest window of each template (for bursts)
 * and an autoencoder over window count vectors (for unusual mixes), with its threshold from the
 * training windows' own reconstruction errors.
 */
async function fitWindowModel(
  ids: readonly number[],
  timestamps: readonly (number | undefined)[],
  options: TrainOptions,
): Promise<ModelArtifact['windows']> {
  const spec = chooseWindowSpec(timestamps);
  const counts = windowCounts(windowsOf(timestamps, spec), ids);
  if (counts.length < 2) return undefined;
  const frequency = new Map<number, number>();
  const max = new Map<number, number>();
  for (const window of counts) {
    for (const [id, n] of window) {
      frequency.set(id, (frequency.get(id) ?? 0) + n);
      if (n > (max.get(id) ?? 0)) max.set(id, n);
    }
  }
  const kept = topByFrequency(frequency, MAX_WINDOW_TEMPLATES)
    .filter((id) => id >= 0)
    .sort((a, b) => a - b);
  const templateMax = kept.map((id) => [id, max.get(id)!] as [number, number]);
  const base = { mode: spec.mode, size: spec.size, trainingWindows: counts.length, templateMax };
  if (counts.length < MIN_AUTOENCODER_WINDOWS) return base;
  const slots = topByFrequency(frequency, WINDOW_SLOTS);
  const slotIndex = new Map(slots.map((id, i) => [id, i] as const));
  // Windows too small to judge at scoring time do not set the threshold either.
  const minLines = Math.max(MIN_WINDOW_LINES, Math.ceil(quantile(counts.map(windowSize), 0.5) / 2));
  const rows = counts
    .filter((c) => windowSize(c) >= minLines)
    .map((c) => Array.from(windowRow(c, slotIndex)));
  if (rows.length < MIN_AUTOENCODER_WINDOWS) return base;
  const autoencoder = await trainAutoencoder(rows, {
    seed: (options.seed ?? 42) + 20,
    epochs: options.epochs ?? 30,
    hiddenSize: Math.min(8, slots.length + 1),
  });
  const errors = rows.map((row) => reconstructionError(autoencoder, row));
  const errorScale = Math.max(1e-6, quantile(errors, THRESHOLD_QUANTILE));
  return {
    ...base,
    counts: {
      minLines,
      slots,
      autoencoder,
      errorScale,
      calibration: calibrationFrom(errors.map((e) => e / errorScale)),
    },
  };
}

function topByFrequency(frequency: ReadonlyMap<number, number>, n: number): number[] {
  return [...frequency.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, n)
    .map(([id]) => id);
}

async function fitLineModel(
  miner: TemplateMiner,
  parsed: readonly Pick<ParsedLine, 'message' | 'level'>[],
  options: TrainOptions,
): Promise<Omit<ModelArtifact, 'sessions' | 'params' | 'windows'>> {
  const featurizer = new LineFeaturizer({ miner, totalLines: parsed.length });
  const features = parsed.map((p) => featurizer.featurize(p.message, p.level, true));
  const autoencoder = await trainAutoencoder(
    features.map((f) => Array.from(f.content)),
    { seed: options.seed ?? 42, epochs: options.epochs ?? 30 },
  );
  const errors = features.map((f) => reconstructionError(autoencoder, f.content));
  const errorScale = Math.max(1e-6, quantile(errors, THRESHOLD_QUANTILE));
  const raws = features.map((f, i) => rawLineScore(f, Math.min(1, errors[i]! / errorScale)));
  const logLengths = parsed.map((p) => Math.log1p(p.message.length));
  const mean = logLengths.reduce((a, b) => a + b, 0) / logLengths.length;
  const std = Math.sqrt(logLengths.reduce((a, b) => a + (b - mean) ** 2, 0) / logLengths.length) || 1;
  const zs = logLengths.map((l) => Math.abs(l - mean) / std);
  return {
    schemaVersion: ARTIFACT_SCHEMA_VERSION,
    name: options.name ?? 'log-anomaly',
    version: options.version ?? '0.0.0',
    miner: miner.toJSON(),
    lines: { totalLines: parsed.length, autoencoder, errorScale, calibration: calibrationFrom(raws) },
    seed: {
      logLengthMean: mean,
      logLengthStd: std,
      calibration: { rawThreshold: quantile(zs, THRESHOLD_QUANTILE) + 0.5, spread: 0.5 },
    },
  };
}

function finish(
  artifact: ModelArtifact,
  options: TrainOptions,
  items: number,
  hash: () => string,
): TrainedModel {
  const model = new AnomalyModel(artifact);
  const metadata: ModelMetadata = {
    name: artifact.name,
    version: artifact.version,
    format: options.format ?? 'lines',
    trainingDataSha256: options.dataSha256 ?? hash(),
    trainingItems: items,
    seed: options.seed ?? 42,
    trainingMetrics: {
      templates: model.miner.size,
      rawThreshold: artifact.lines.calibration.rawThreshold,
      lineErrorScale: artifact.lines.errorScale,
      ...(artifact.sessions ? { sessionRawThreshold: artifact.sessions.calibration.rawThreshold } : {}),
      paramTemplates: artifact.params?.length ?? 0,
      paramPositions: artifact.params?.reduce((a, t) => a + t.positions.length, 0) ?? 0,
      ...(artifact.windows ? { trainingWindows: artifact.windows.trainingWindows } : {}),
    },
  };
  return { artifact, metadata };
}

function hashItems(items: readonly string[]): string {
  const hash = createHash('sha256');
  for (const item of items) hash.update(item).update('\n');
  return hash.digest('hex');
}
