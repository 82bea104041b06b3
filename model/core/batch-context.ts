import { scoreOfP } from '../../contracts/alert-budget.ts';
import type { Prediction } from '../../contracts/prediction.ts';
import { sessionIdOf } from '../features/session.ts';
import type { ModelArtifact } from './artifact.ts';
import { reconstructionError } from './autoencoder.ts';
import type { LineFeatures } from './line-features.ts';
import { calibrate, round6 } from './model-helpers.ts';
import type { SessionScorer } from './session-model.ts';
import {
  BURST_THRESHOLD_LOG2,
  burstStrength,
  windowCounts,
  windowRow,
  windowSize,
  windowsOf,
} from './window-stats.ts';

/**
 * What a batch adds to its lines' own scores (`AnomalyModel.scoreEvents`), each only raising a score:
 * its windows' template counts (a burst of a line's template, an unusual mix) and the parts of
 * sessions it holds. Heuristics with their own thresholds at score 0.5 (p = 0.001), except the
 * session evidence, which is the session model's conservative p-value.
 */

/** A scored line with its explanation. */
export interface LineScore extends Required<Pick<Prediction, 'score' | 'anomaly' | 'template' | 'reasons'>> {
  readonly raw: number;
}

/**
 * How much an unusual window (its count-vector score `w` ≥ 0.5) raises a line: `s + κ·w·s·(1 − s)`.
 * Proportional to the line's own score, so routine lines of the window stay routine and only lines
 * that were already suspicious cross the threshold.
 */
export const WINDOW_RAISE = 0.5;

/** The batch context of one model: its window statistics, its session model, its threshold. */
export class BatchContext {
  private readonly windowMax: ReadonlyMap<number, number>;
  private readonly windowSlots: ReadonlyMap<number, number>;

  constructor(
    private readonly artifact: ModelArtifact,
    private readonly threshold: number,
    private readonly sessions: SessionScorer | undefined,
  ) {
    this.windowMax = new Map(artifact.windows?.templateMax ?? []);
    this.windowSlots = new Map((artifact.windows?.counts?.slots ?? []).map((id, i) => [id, i] as const));
  }

  /** Count-vector scores of windows (0 for windows too small to judge or without an autoencoder). */
  windowScores(counts: readonly ReadonlyMap<number, number>[]): number[] {
    const model = this.artifact.windows?.counts;
    if (!model) return counts.map(() => 0);
    return counts.map((c) =>
      windowSize(c) < model.minLines
        ? 0
        : calibrate(
            reconstructionError(model.autoencoder, windowRow(c, this.windowSlots)) / model.errorScale,
            model.calibration,
          ),
    );
  }

  /**
   * Window evidence: a burst of a line's own template, or an unusual count vector of its window.
   * Client-caused lines (`clientCaused`, a 4xx access line) are the client's to multiply: they are
   * left out of the window counts and never raised, so a flood of bad requests — however many a batch
   * happens to hold on a slow machine — neither bursts nor makes the service's own lines look unusual.
   */
  applyWindows(
    scores: LineScore[],
    features: readonly LineFeatures[],
    timestamps: readonly (number | undefined)[],
    clientCaused: readonly boolean[],
  ): void {
    const spec = this.artifact.windows;
    if (!spec) return;
    const windows = windowsOf(timestamps, spec);
    // Lines without a template count in the shared `other` slot; bursts are only judged for known
    // templates (a never-seen message is already scored as new, line by line).
    const ids = features.map((f) => f.templateId ?? -1);
    const own = windows.flatMap((_, i) => (clientCaused[i] ? [] : [i]));
    const ownCounts = windowCounts(
      own.map((i) => windows[i]!),
      own.map((i) => ids[i]!),
    );
    const counts = Array.from({ length: Math.max(0, ...windows) + 1 }, (_, w) => ownCounts[w] ?? new Map());
    const windowScores = this.windowScores(counts);
    for (let i = 0; i < scores.length; i++) {
      if (clientCaused[i]) continue;
      const line = scores[i]!;
      const id = ids[i]!;
      let score = line.score;
      const reasons = [...line.reasons];
      if (id >= 0) {
        const strength = burstStrength(counts[windows[i]!]!.get(id)!, this.windowMax.get(id) ?? 0);
        const burst =
          strength > 0 ? calibrate(strength, { rawThreshold: BURST_THRESHOLD_LOG2, spread: 0.5 }) : 0;
        if (burst >= this.threshold) reasons.push('window:burst');
        score = Math.max(score, burst);
      }
      const unusual = windowScores[windows[i]!]!;
      if (unusual >= this.threshold) {
        reasons.push('window:unusual-counts');
        score = round6(score + WINDOW_RAISE * unusual * score * (1 - score));
      }
      if (score !== line.score || reasons.length !== line.reasons.length) {
        scores[i] = { ...line, score, anomaly: score >= this.threshold, reasons };
      }
    }
  }

  /**
   * Session evidence within the batch: lines grouped by {@link sessionIdOf}; a line whose event, pair
   * with the session's previous line or run of three never occurred in a normal session scores as a
   * session showing that (a conservative p-value: the whole session shows at least as much). A batch
   * holds part of a session at most, so its start, end, length and counts are judged only by
   * `AnomalyModel.scoreSession`, on complete sessions.
   */
  applySessions(scores: LineScore[], features: readonly LineFeatures[], messages: readonly string[]): void {
    const sessions = this.sessions;
    if (!sessions) return;
    const history = new Map<string, number[]>();
    for (let i = 0; i < messages.length; i++) {
      const key = sessionIdOf(messages[i]!);
      if (key === undefined) continue;
      const id = features[i]!.templateId ?? -1;
      const before = history.get(key) ?? [];
      history.set(key, [...before.slice(-1), id]);
      // A line without a template is already scored as new, line by line.
      const newEvent = id >= 0 && !sessions.knowsEvent(id);
      const newTransition = before.length > 0 && !sessions.knowsTransition(`${before.at(-1)}>${id}`);
      const newWindow = before.length > 1 && !sessions.knowsWindow(`${before[0]}>${before[1]}>${id}`);
      if (!newEvent && !newTransition && !newWindow) continue;
      const line = scores[i]!;
      const score = Math.max(line.score, scoreOfP(sessions.partialP(newEvent, newTransition, newWindow)));
      const reasons = [...line.reasons];
      if (newEvent) reasons.push('session:new-event');
      if (newTransition) reasons.push('session:new-transition');
      if (newWindow) reasons.push('session:new-window');
      scores[i] = { ...line, score, anomaly: score >= this.threshold, reasons };
    }
  }
}
