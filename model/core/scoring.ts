import type { LineFeatures } from './line-features.ts';

/**
 * The raw (uncalibrated) line score. Kept apart from the model class so the weighting is one small,
 * documented function, shared by training (the leave-one-out table) and inference. Sessions have
 * their own evidence (`session-model.ts`).
 */

/**
 * A line is anomalous when it is both surprising and severe: a new or rare template matters more when
 * the line is an error, and an error that happens all the time is routine. Content surprise (the
 * autoencoder's reconstruction error on the template's words) refines the surprise of new templates,
 * which rarity alone cannot tell apart.
 */
export function rawLineScore(features: LineFeatures, contentSurprise: number): number {
  const severity = features.severity.score;
  const surprise = 0.85 * features.rarity + 0.15 * contentSurprise;
  return surprise * (0.2 + 0.8 * severity);
}
