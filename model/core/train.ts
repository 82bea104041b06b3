import { createHash } from 'node:crypto';
import {
  budgetFallbackNote,
  DEFAULT_BUDGET,
  effectiveBudget,
  MAX_BUDGET,
} from '../../contracts/alert-budget.ts';
import { type ParsedLine, parseLogLine } from '../features/parse.ts';
import { sessionIdOf } from '../features/session.ts';
import { scoringLevel } from '../features/severity.ts';
import { TemplateMiner } from '../features/template-miner.ts';
import { ARTIFACT_SCHEMA_VERSION, type ModelArtifact, type ModelMetadata } from './artifact.ts';
import { reconstructionError, trainAutoencoder } from './autoencoder.ts';
import { calibrationFrom, driftFloor, quantile, THRESHOLD_QUANTILE } from './calibration.ts';
import { conformalTable } from './conformal.ts';
import { LineFeaturizer } from './line-features.ts';
import { AnomalyModel } from './model.ts';
import { fitParamStats } from './param-stats.ts';
import { rawLineScore } from './scoring.ts';
import { fitSessionModel, SESSION_RULES, type SessionRule, SessionScorer } from './session-model.ts';
import {
  chooseWindowSpec,
  MIN_WINDOW_LINES,
  windowCounts,
  windowRow,
  windowSize,
  windowsOf,
} from './window-stats.ts';

/**
 * Training: mine templates, count them, fit the autoencoders (tfjs), then calibrate on the training
 * data alone by leave-one-out scoring (each training item scored as if it had not been counted, so
 * items seen once in training look as new as they will in production): the conformal tables that
 * turn any alert budget into a threshold.
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
  /**
   * The alert budget: the share of normal items the model may flag (0 < budget ≤ 0.05), recorded in
   * the artifact; a training set too small for it falls back to `1/(n + 1)`, stated in the metadata.
   * @default 0.001
   */
  readonly budget?: number;
  /** Names of the training sessions (block or request ids), for the nearest-session evidence. @default - their position */
  readonly sessionIds?: readonly string[];
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
const WINDOW_SLOTS = 31;
/** Smallest tail scale of the line p-value above the top training raw score (raw scores are 0..1). */
const LINE_MIN_TAIL = 0.02;
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
  checkBudget(options.budget);
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
  const sequences = [...bySession.entries()].filter(([, s]) => s.length >= 2);
  const sessions =
    sequences.length >= MIN_LINE_SESSIONS
      ? fitSessionModel(
          sequences.map(([, s]) => s),
          sequences.map(([key]) => key),
        )
      : undefined;
  const artifact: ModelArtifact = {
    ...lineModel,
    params: fitParams(miner, parsed, ids),
    windows: await fitWindowModel(
      ids,
      parsed.map((p) => p.timestamp),
      options,
    ),
    ...(sessions ? { sessions: sessions.model } : {}),
  };
  return finish(artifact, options, lines.length, () => hashItems(lines), sessions?.showing);
}

/** Trains on sessions of events (normal sessions only): line statistics and sequence statistics. */
export async function trainOnSessions(
  sessions: readonly (readonly string[])[],
  options: TrainOptions = {},
): Promise<TrainedModel> {
  if (sessions.length < 2) throw new Error(`training needs at least 2 sessions; got ${sessions.length}`);
  checkBudget(options.budget);
  const miner = new TemplateMiner();
  const parsed = sessions.flatMap((events) => events.map((message) => ({ message })));
  for (const p of parsed) miner.add(p.message);
  const lineModel = await fitLineModel(miner, parsed, options);
  // Ids are taken after mining finished, so every session maps onto the final templates.
  const idSessions = sessions.map((events) => events.map((m) => miner.match(m)?.templateId ?? -1));
  const ids = parsed.map((p) => miner.match(p.message)?.templateId ?? -1);
  const sessionModel = fitSessionModel(idSessions, options.sessionIds);
  const artifact: ModelArtifact = {
    ...lineModel,
    params: fitParams(miner, parsed, ids),
    sessions: sessionModel.model,
  };
  return finish(
    artifact,
    options,
    sessions.length,
    () => hashItems(sessions.map((s) => s.join('\n'))),
    sessionModel.showing,
  );
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
  // Leave-one-out raw scores: the conformal table the budget thresholds.
  const raws = features.map((f, i) => rawLineScore(f, Math.min(1, errors[i]! / errorScale)));
  const logLengths = parsed.map((p) => Math.log1p(p.message.length));
  const mean = logLengths.reduce((a, b) => a + b, 0) / logLengths.length;
  const std = Math.sqrt(logLengths.reduce((a, b) => a + (b - mean) ** 2, 0) / logLengths.length) || 1;
  const zs = logLengths.map((l) => Math.abs(l - mean) / std);
  return {
    schemaVersion: ARTIFACT_SCHEMA_VERSION,
    name: options.name ?? 'log-anomaly',
    version: options.version ?? '0.0.0',
    budget: options.budget ?? DEFAULT_BUDGET,
    miner: miner.toJSON(),
    lines: {
      totalLines: parsed.length,
      autoencoder,
      errorScale,
      floor: driftFloor(raws),
      table: conformalTable(raws, LINE_MIN_TAIL),
    },
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
  showing?: Readonly<Record<SessionRule, number>>,
): TrainedModel {
  const model = new AnomalyModel(artifact);
  const { budget, sessions } = artifact;
  const metadata: ModelMetadata = {
    name: artifact.name,
    version: artifact.version,
    format: options.format ?? 'lines',
    trainingDataSha256: options.dataSha256 ?? hash(),
    trainingItems: items,
    seed: options.seed ?? 42,
    trainingMetrics: {
      templates: model.miner.size,
      lineFloor: artifact.lines.floor,
      lineErrorScale: artifact.lines.errorScale,
      lineThreshold: model.info.threshold,
      ...(sessions ? { sessionThreshold: model.sessionThreshold } : {}),
      paramTemplates: artifact.params?.length ?? 0,
      paramPositions: artifact.params?.reduce((a, t) => a + t.positions.length, 0) ?? 0,
      ...(artifact.windows ? { trainingWindows: artifact.windows.trainingWindows } : {}),
    },
    budget: {
      declared: budget,
      lines: appliedBudget(budget, artifact.lines.totalLines),
      ...(sessions && showing
        ? {
            sessions: {
              ...appliedBudget(budget, sessions.n),
              rules: sessionRules(sessions, budget, showing),
            },
          }
        : {}),
    },
  };
  return { artifact, metadata };
}

function appliedBudget(budget: number, n: number): ModelMetadata['budget']['lines'] {
  const fallback = budgetFallbackNote(budget, n);
  return { trainingItems: n, effective: effectiveBudget(budget, n), ...(fallback ? { fallback } : {}) };
}

/** Each session rule's leave-one-out rate and whether it can flag alone under the budget. */
function sessionRules(
  sessions: NonNullable<ModelArtifact['sessions']>,
  budget: number,
  showing: Readonly<Record<SessionRule, number>>,
): NonNullable<ModelMetadata['budget']['lines']['rules']> {
  const scorer = new SessionScorer(sessions);
  const applied = effectiveBudget(budget, sessions.n);
  return Object.fromEntries(
    SESSION_RULES.map((rule) => {
      const rate = (showing[rule] + 1) / (sessions.n + 1);
      const at = scorer.flagsAloneAt(rule, applied);
      return [
        rule,
        {
          sessions: showing[rule],
          rate,
          admitted: rule === 'length' || rule === 'distance' || sessions.admitted[rule],
          flagsAlone: at !== undefined,
          ...(at === undefined ? {} : { flagsAloneAt: at }),
        },
      ];
    }),
  );
}

function checkBudget(budget: number | undefined): void {
  if (budget === undefined) return;
  if (!(budget > 0 && budget <= MAX_BUDGET)) {
    throw new Error(`the alert budget must be a number in (0, ${MAX_BUDGET}]; got ${budget}`);
  }
}

function hashItems(items: readonly string[]): string {
  const hash = createHash('sha256');
  for (const item of items) hash.update(item).update('\n');
  return hash.digest('hex');
}
