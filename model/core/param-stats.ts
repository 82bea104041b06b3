import { WILDCARD } from '../features/mask.ts';

/**
 * Numeric parameter shifts: per template, the distribution of each numeric parameter position
 * (latencies, sizes, counts) learnt at training time, and how far a new value lies outside it. A
 * known message with a value far outside its usual range (`took 90000ms` where training saw 1–80 ms)
 * is invisible to template novelty; this is the evidence for it.
 *
 * Values are compared on a signed log scale (`sign(v)·log1p(|v|)`), so a shift is a ratio, not a
 * difference, and heavy-tailed quantities (bytes, milliseconds) get a usable spread. Statistics are
 * robust (quantiles, median absolute deviation), so a few odd training values do not widen the range
 * for good.
 */

/** Robust statistics of one parameter position, on the signed log scale. */
export interface ParamPositionStats {
  /** Token index in the template. */
  readonly position: number;
  /** Training values seen. */
  readonly n: number;
  /** Lower and upper training quantiles ({@link PARAM_RANGE_QUANTILE} and its complement). */
  readonly lo: number;
  readonly hi: number;
  readonly median: number;
  /** Robust spread: the largest of 1.4826·MAD, IQR/1.349 and {@link PARAM_MIN_SCALE}. */
  readonly scale: number;
}

/** The parameter statistics of one template. */
export interface TemplateParamStats {
  readonly templateId: number;
  readonly positions: ParamPositionStats[];
}

/** Bounds on what training keeps, so the artifact stays small whatever the input. */
export interface ParamFitOptions {
  /** Templates with parameter statistics, the most frequent first. @default 512 */
  readonly maxTemplates?: number;
  /** Numeric positions per template. @default 8 */
  readonly maxPositions?: number;
  /** Values a position needs before its range is trusted. @default 20 */
  readonly minSamples?: number;
}

/** Training quantile that bounds the normal range on each side. */
export const PARAM_RANGE_QUANTILE = 0.005;
/**
 * Smallest spread on the log scale (≈ ×1.22): a position that was nearly constant in training must
 * still move by a real factor, not a rounding difference, before it counts as shifted.
 */
export const PARAM_MIN_SCALE = 0.2;
/** Share of a position's training tokens that must parse as numbers for it to be numeric. */
export const PARAM_NUMERIC_SHARE = 0.9;
/** Distinct values a position needs: fewer is an enumeration (`rank 0`, `port 1`), not a quantity. */
export const PARAM_MIN_DISTINCT = 5;
/**
 * Share of non-decreasing consecutive values above which a position is a counter, sequence number or
 * embedded timestamp: it leaves its training range by design, so it is not scored.
 */
export const PARAM_MONOTONE_SHARE = 0.95;

// A number with optional wrapping punctuation and an optional unit: `13ms`, `(0`, `4.5s,`, `100%`.
const NUMBER = /^[([{<'"]?([-+]?\d+(?:\.\d+)?)([a-zA-Zµ%]{0,3})[)\]}>'",;:.]*$/;
// Units that are normalised so `900ms` and `1.2s` compare; any other unit must be absent.
const UNIT_FACTOR: Readonly<Record<string, number>> = {
  '': 1,
  '%': 1,
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  b: 1,
  B: 1,
  k: 1e3,
  K: 1e3,
  kb: 1e3,
  kB: 1e3,
  KB: 1e3,
  KiB: 1024,
  M: 1e6,
  MB: 1e6,
  MiB: 1024 ** 2,
  G: 1e9,
  GB: 1e9,
  GiB: 1024 ** 3,
};

/** The value of a numeric token on the signed log scale, or `undefined` when it is not a number. */
export function numericValue(token: string): number | undefined {
  const m = NUMBER.exec(token);
  if (!m) return undefined;
  const factor = UNIT_FACTOR[m[2]!];
  if (factor === undefined) return undefined;
  const v = Number(m[1]) * factor;
  if (!Number.isFinite(v)) return undefined;
  return Math.sign(v) * Math.log1p(Math.abs(v));
}

/** Where a variable sits in a template token: `<*>`, `batch=<*>`, `(<*>`. */
interface Slot {
  readonly position: number;
  readonly prefix: string;
  readonly suffix: string;
}

/** Template positions whose token holds exactly one wildcard (the places a parameter can be read). */
export function parameterSlots(templateTokens: readonly string[]): Slot[] {
  const slots: Slot[] = [];
  for (let i = 0; i < templateTokens.length; i++) {
    const t = templateTokens[i]!;
    const at = t.indexOf(WILDCARD);
    if (at < 0 || t.indexOf(WILDCARD, at + 1) >= 0) continue;
    slots.push({ position: i, prefix: t.slice(0, at), suffix: t.slice(at + WILDCARD.length) });
  }
  return slots;
}

/**
 * The raw text of a parameter: the message token at the slot's position without the template's
 * constant prefix and suffix; `undefined` when the message does not line up with the template.
 */
function slotText(slot: Slot, tokens: readonly string[]): string | undefined {
  const raw = tokens[slot.position];
  if (raw === undefined) return undefined;
  if (slot.prefix === '' && slot.suffix === '') return raw;
  if (!raw.startsWith(slot.prefix) || !raw.endsWith(slot.suffix)) return undefined;
  return raw.slice(slot.prefix.length, raw.length - slot.suffix.length);
}

const WHITESPACE = /\s+/;

/** Message tokens aligned with template tokens (masking never changes where whitespace is). */
export function messageTokens(message: string): string[] {
  const text = message.trim();
  return text === '' ? [''] : text.split(WHITESPACE);
}

/** One training line for {@link fitParamStats}. */
export interface ParamSample {
  readonly templateId: number;
  readonly message: string;
}

/**
 * Fits the parameter statistics of the most frequent templates. `templateTokens` gives a template's
 * final tokens (after mining finished, so every line maps onto the same wildcards).
 */
export function fitParamStats(
  samples: readonly ParamSample[],
  templateTokens: (templateId: number) => readonly string[] | undefined,
  options: ParamFitOptions = {},
): TemplateParamStats[] {
  const maxTemplates = options.maxTemplates ?? 512;
  const maxPositions = options.maxPositions ?? 8;
  const minSamples = options.minSamples ?? 20;
  const byTemplate = new Map<number, string[]>();
  for (const s of samples) {
    const list = byTemplate.get(s.templateId);
    if (list) list.push(s.message);
    else byTemplate.set(s.templateId, [s.message]);
  }
  const candidates = [...byTemplate.entries()]
    .filter(([, messages]) => messages.length >= minSamples)
    .sort((a, b) => b[1].length - a[1].length || a[0] - b[0]);
  const out: TemplateParamStats[] = [];
  for (const [templateId, messages] of candidates) {
    if (out.length >= maxTemplates) break;
    const tokens = templateTokens(templateId);
    if (!tokens) continue;
    const slots = parameterSlots(tokens);
    if (slots.length === 0) continue;
    const values: number[][] = slots.map(() => []);
    const parsedTokens = messages.map(messageTokens);
    for (const msgTokens of parsedTokens) {
      if (msgTokens.length !== tokens.length) continue;
      slots.forEach((slot, k) => {
        const text = slotText(slot, msgTokens);
        const v = text === undefined ? undefined : numericValue(text);
        if (v !== undefined) values[k]!.push(v);
      });
    }
    const positions: ParamPositionStats[] = [];
    slots.forEach((slot, k) => {
      if (positions.length >= maxPositions) return;
      const xs = values[k]!;
      if (xs.length < minSamples || xs.length < PARAM_NUMERIC_SHARE * messages.length) return;
      if (new Set(xs).size < PARAM_MIN_DISTINCT || isMonotone(xs)) return;
      positions.push(positionStats(slot.position, xs));
    });
    if (positions.length > 0) out.push({ templateId, positions });
  }
  return out.sort((a, b) => a.templateId - b.templateId);
}

function isMonotone(xs: readonly number[]): boolean {
  let up = 0;
  let down = 0;
  for (let i = 1; i < xs.length; i++) {
    if (xs[i]! >= xs[i - 1]!) up++;
    if (xs[i]! <= xs[i - 1]!) down++;
  }
  const pairs = xs.length - 1;
  return up >= PARAM_MONOTONE_SHARE * pairs || down >= PARAM_MONOTONE_SHARE * pairs;
}

function positionStats(position: number, xs: readonly number[]): ParamPositionStats {
  const sorted = Float64Array.from(xs).sort();
  const q = (p: number) => {
    const at = (sorted.length - 1) * p;
    const lower = Math.floor(at);
    const upper = Math.min(sorted.length - 1, lower + 1);
    return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (at - lower);
  };
  const median = q(0.5);
  const deviations = Float64Array.from(xs, (x) => Math.abs(x - median)).sort();
  const mad = deviations[Math.floor((deviations.length - 1) / 2)]!;
  const scale = Math.max(1.4826 * mad, (q(0.75) - q(0.25)) / 1.349, PARAM_MIN_SCALE);
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    position,
    n: xs.length,
    lo: round(q(PARAM_RANGE_QUANTILE)),
    hi: round(q(1 - PARAM_RANGE_QUANTILE)),
    median: round(median),
    scale: round(scale),
  };
}

/** The largest parameter shift of a line. */
export interface ParamShift {
  /** Template token index of the shifted parameter. */
  readonly position: number;
  /** Distance outside the training range, in robust spreads (0 inside it). */
  readonly distance: number;
}

/**
 * Scores lines against the fitted statistics. Built once per model; a line costs one map lookup when
 * its template has no numeric positions and one whitespace split when it has.
 */
export class ParamShiftIndex {
  private readonly byTemplate = new Map<number, { slot: Slot; stats: ParamPositionStats }[]>();
  private readonly templateLength = new Map<number, number>();

  constructor(
    stats: readonly TemplateParamStats[],
    templateTokens: (templateId: number) => readonly string[] | undefined,
  ) {
    for (const t of stats) {
      const tokens = templateTokens(t.templateId);
      if (!tokens) continue;
      const slots = new Map(parameterSlots(tokens).map((s) => [s.position, s] as const));
      const entries = t.positions.flatMap((p) => {
        const slot = slots.get(p.position);
        return slot ? [{ slot, stats: p }] : [];
      });
      if (entries.length === 0) continue;
      this.byTemplate.set(t.templateId, entries);
      this.templateLength.set(t.templateId, tokens.length);
    }
  }

  /** Templates with at least one scored position. */
  get size(): number {
    return this.byTemplate.size;
  }

  /** The largest shift among the line's numeric parameters; `undefined` when none is scored. */
  shiftOf(templateId: number, message: string): ParamShift | undefined {
    const entries = this.byTemplate.get(templateId);
    if (!entries) return undefined;
    const tokens = messageTokens(message);
    if (tokens.length !== this.templateLength.get(templateId)) return undefined;
    let best: ParamShift | undefined;
    for (const { slot, stats } of entries) {
      const text = slotText(slot, tokens);
      const x = text === undefined ? undefined : numericValue(text);
      if (x === undefined) continue;
      const outside = x > stats.hi ? x - stats.hi : x < stats.lo ? stats.lo - x : 0;
      const distance = outside / stats.scale;
      if (!best || distance > best.distance) best = { position: stats.position, distance };
    }
    return best;
  }
}
