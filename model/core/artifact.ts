import { z } from 'zod';
import { MAX_BUDGET } from '../../contracts/alert-budget.ts';
import { ConformalTableSchema } from './conformal.ts';

/**
 * The model artifact: everything scoring needs, as one validated JSON document (`model.json`), plus
 * `metadata.json` (provenance and training metrics) beside it. Loading validates with zod, since an
 * artifact directory is input like any other.
 */

/**
 * Version 3 (the alert budget): the artifact's `budget`, line calibration as a conformal table over
 * leave-one-out training scores with a drift floor, and a session model of budget-governed evidence.
 * Artifacts of versions 1 and 2 (a logistic calibration at one fixed threshold) cannot say what a
 * budget means for them and are refused with the command that retrains them.
 */
export const ARTIFACT_SCHEMA_VERSION = 3;
/** Schema versions {@link ModelArtifactSchema} accepts. */
export const SUPPORTED_SCHEMA_VERSIONS = [3] as const;
export const MODEL_FILE = 'model.json';
export const METADATA_FILE = 'metadata.json';

const AutoencoderSchema = z.object({
  inputSize: z.number().int().positive(),
  hiddenSize: z.number().int().positive(),
  w1: z.array(z.number()),
  b1: z.array(z.number()),
  w2: z.array(z.number()),
  b2: z.array(z.number()),
});

/** A raw score and how it maps to the calibrated 0..1 score: a logistic centred on the threshold. */
const CalibrationSchema = z.object({
  /** Raw score at which the calibrated score is 0.5 (the decision threshold). */
  rawThreshold: z.number(),
  /** Raw-score distance that moves the calibrated score from 0.5 to about 0.73. */
  spread: z.number().positive(),
});

/** A session-evidence component's leave-one-out conformal table (`core/session-model.ts`). */
const SessionComponentsSchema = z.object({
  events: ConformalTableSchema,
  transitions: ConformalTableSchema,
  windows: ConformalTableSchema,
  length: ConformalTableSchema,
  distance: ConformalTableSchema,
});

export const ModelArtifactSchema = z.object({
  schemaVersion: z.literal(3),
  name: z.string(),
  version: z.string(),
  /**
   * The alert budget the artifact was calibrated for (the share of normal items it may flag): what
   * `anomaly` in its answers means. Callers with their own budget threshold the score themselves.
   */
  budget: z.number().positive().max(MAX_BUDGET),
  miner: z.object({
    options: z.object({
      depth: z.number().int().min(3),
      similarityThreshold: z.number(),
      maxChildren: z.number().int().positive(),
      mask: z.boolean(),
    }),
    templates: z.array(z.object({ templateId: z.number().int(), template: z.string(), count: z.number() })),
  }),
  lines: z.object({
    totalLines: z.number().int().nonnegative(),
    autoencoder: AutoencoderSchema,
    /** Reconstruction error that maps to 1 in the score (a high training quantile). */
    errorScale: z.number().positive(),
    /**
     * Raw score below which no budget flags a line: the 99 % leave-one-out training quantile plus a
     * margin, because a stream brings new templates that leave-one-out cannot foresee.
     */
    floor: z.number(),
    /** Leave-one-out raw scores of the training lines. */
    table: ConformalTableSchema,
  }),
  sessions: z
    .object({
      /** Normal training sessions. */
      n: z.number().int().positive(),
      /** `[template id, training sessions holding it]` (−1: no template matched). */
      events: z.array(z.tuple([z.number().int(), z.number().int().positive()])),
      /** `[a>b, sessions holding it, occurrences]`, `^` and `$` marking start and end. */
      transitions: z.array(z.tuple([z.string(), z.number().int().positive(), z.number().int().positive()])),
      /** `[a>b>c, sessions holding it, occurrences]`: runs of three events (STIDE's window 3). */
      windows: z.array(z.tuple([z.string(), z.number().int().positive(), z.number().int().positive()])),
      /** `[length, sessions of that length]`. */
      lengths: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().positive()])),
      /** `[count key, sessions with exactly these counts, the first such session's id]`. */
      countVectors: z.array(z.tuple([z.string(), z.number().int().positive(), z.string()])),
      /** How rare each kind of evidence is among normal sessions, leave-one-out. */
      components: SessionComponentsSchema,
      /** The novelty rules rare enough among training sessions to enter the combined evidence. */
      admitted: z.object({ events: z.boolean(), transitions: z.boolean(), windows: z.boolean() }),
      /** The combined evidence of the training sessions, leave-one-out: the budget's p-value. */
      table: ConformalTableSchema,
    })
    .optional(),
  /** Numeric parameter statistics per template (robust, on a signed log scale); bounded in size. */
  params: z
    .array(
      z.object({
        templateId: z.number().int().nonnegative(),
        positions: z
          .array(
            z.object({
              position: z.number().int().nonnegative(),
              n: z.number().int().positive(),
              lo: z.number(),
              hi: z.number(),
              median: z.number(),
              scale: z.number().positive(),
            }),
          )
          .min(1)
          .max(16),
      }),
    )
    .max(4096)
    .optional(),
  /** Per-window template counts of the training lines. */
  windows: z
    .object({
      mode: z.enum(['time', 'count']),
      size: z.number().positive(),
      /** Windows the training lines fell into. */
      trainingWindows: z.number().int().positive(),
      /** `[templateId, most lines of it in one training window]`, the most frequent templates. */
      templateMax: z.array(z.tuple([z.number().int(), z.number().int().positive()])).max(4096),
      /**
       * The count-vector autoencoder; absent when training had too few windows for its threshold (a
       * 99% quantile of reconstruction errors needs at least ~100 windows to mean anything).
       */
      counts: z
        .object({
          /**
           * Fewest lines a window needs to be judged: half the median training window. A window's mix
           * is noisier the fewer lines it has, and the threshold was set on full windows.
           */
          minLines: z.number().int().positive(),
          /** Template ids with a slot in the autoencoder's input, in slot order. */
          slots: z.array(z.number().int()),
          autoencoder: AutoencoderSchema,
          errorScale: z.number().positive(),
          /** Maps `reconstruction error / errorScale` of a window to its 0..1 score. */
          calibration: CalibrationSchema,
        })
        .optional(),
    })
    .optional(),
  /**
   * The legacy four-feature input: message-length distribution of the training lines, its own
   * logistic calibration (0.5 at its threshold, the score of p = 0.001 on the budget scale).
   */
  seed: z.object({
    logLengthMean: z.number(),
    logLengthStd: z.number().positive(),
    calibration: CalibrationSchema,
  }),
});
export type ModelArtifact = z.infer<typeof ModelArtifactSchema>;

/** The budget applied to one unit, with the honest fallback stated when the training set is too small. */
const AppliedBudgetSchema = z.object({
  trainingItems: z.number().int().nonnegative(),
  /** The budget applied: the declared one, or `1/(n + 1)` when the training set cannot honour it. */
  effective: z.number(),
  /** Why `effective` differs from the declared budget. */
  fallback: z.string().optional(),
  /**
   * Session rules: how many training sessions show each kind of evidence leave-one-out, its rate
   * `(m + 1)/(n + 1)`, and whether that rate is within the budget (only then can it flag alone).
   */
  rules: z
    .record(
      z.string(),
      z.object({
        sessions: z.number().int().nonnegative(),
        rate: z.number(),
        /** Whether the rule enters the combined evidence (novelty rules: rate within 5 %). */
        admitted: z.boolean(),
        flagsAlone: z.boolean(),
        /** The smallest amount of this evidence that flags on its own (new events, pairs, …). */
        flagsAloneAt: z.number().optional(),
      }),
    )
    .optional(),
});

export const ModelMetadataSchema = z.looseObject({
  name: z.string(),
  version: z.string(),
  format: z.enum(['loghub', 'jsonl', 'sessions', 'lines']),
  trainingDataSha256: z.string(),
  trainingItems: z.number().int(),
  seed: z.number().int(),
  trainingMetrics: z.record(z.string(), z.number()),
  /** The alert budget: declared, and what each unit's training set lets the model honour. */
  budget: z.object({
    declared: z.number(),
    lines: AppliedBudgetSchema,
    sessions: AppliedBudgetSchema.optional(),
  }),
});
export type ModelMetadata = z.infer<typeof ModelMetadataSchema>;
