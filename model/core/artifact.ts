import { z } from 'zod';

/**
 * The model artifact: everything scoring needs, as one validated JSON document (`model.json`), plus
 * `metadata.json` (provenance and training metrics) beside it. Loading validates with zod, since an
 * artifact directory is input like any other.
 */

/**
 * Version 2 added `params` (numeric parameter statistics) and `windows` (per-window template counts);
 * version-1 artifacts still load and score as before, without those features.
 */
export const ARTIFACT_SCHEMA_VERSION = 2;
/** Schema versions {@link ModelArtifactSchema} accepts. */
export const SUPPORTED_SCHEMA_VERSIONS = [1, 2] as const;
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

export const ModelArtifactSchema = z.object({
  schemaVersion: z.union([z.literal(1), z.literal(2)]),
  name: z.string(),
  version: z.string(),
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
    calibration: CalibrationSchema,
  }),
  sessions: z
    .object({
      /** Template ids seen in normal sessions. */
      events: z.array(z.number().int()),
      /** `a>b` transitions seen, with `^` and `$` for start and end. */
      transitions: z.array(z.string()),
      /** Count-vector keys seen, with how many sessions had each. */
      countVectors: z.array(z.tuple([z.string(), z.number().int()])),
      /** Template ids that have a slot in the count-vector autoencoder input, in slot order. */
      slots: z.array(z.number().int()),
      autoencoder: AutoencoderSchema,
      errorScale: z.number().positive(),
      calibration: CalibrationSchema,
      /**
       * Novelty kinds rare enough in normal training sessions to flag by rule (core/train.ts); absent
       * in artifacts trained before the rules, which then flag by the calibration alone.
       */
      rules: z.object({ events: z.boolean(), transitions: z.boolean() }).optional(),
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
  /** The legacy four-feature input: message-length distribution of the training lines. */
  seed: z.object({
    logLengthMean: z.number(),
    logLengthStd: z.number().positive(),
    calibration: CalibrationSchema,
  }),
});
export type ModelArtifact = z.infer<typeof ModelArtifactSchema>;

export const ModelMetadataSchema = z.looseObject({
  name: z.string(),
  version: z.string(),
  format: z.enum(['loghub', 'jsonl', 'sessions', 'lines']),
  trainingDataSha256: z.string(),
  trainingItems: z.number().int(),
  seed: z.number().int(),
  trainingMetrics: z.record(z.string(), z.number()),
});
export type ModelMetadata = z.infer<typeof ModelMetadataSchema>;
