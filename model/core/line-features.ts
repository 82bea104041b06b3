import { WILDCARD } from '../features/mask.ts';
import type { LogLevel } from '../features/parse.ts';
import { type Severity, severityOf } from '../features/severity.ts';
import type { TemplateMiner } from '../features/template-miner.ts';

/**
 * Per-line features over a trained template vocabulary: template novelty and smoothed rarity,
 * severity, and a content vector (hashed template words plus shape) for the autoencoder.
 */

/** Hash buckets for template words in the content vector. */
export const WORD_BUCKETS = 32;
/** Width of {@link LineFeatures.content}: level, failure word, length, wildcard share, word buckets. */
export const CONTENT_SIZE = 4 + WORD_BUCKETS;

/** Additive smoothing of template counts: a never-seen template has pseudo-count {@link RARITY_ALPHA}. */
export const RARITY_ALPHA = 1;

export interface LineFeatures {
  /** The matched template, or the line's own masked tokens when it is new. */
  readonly template: string;
  readonly templateId: number | undefined;
  /** No training template is similar enough. */
  readonly novel: boolean;
  /**
   * Smoothed surprisal of the template in 0..1. A new line scores `1 - 0.4 × similarity`: a new
   * variant of a known message (another errno, one more word) is less surprising than a new message.
   */
  readonly rarity: number;
  /** Word-set Jaccard similarity to the closest training template (1 when a template matched). */
  readonly similarity: number;
  readonly severity: Severity;
  readonly content: Float64Array;
}

/** Template statistics from training. */
export interface TemplateStats {
  readonly miner: TemplateMiner;
  /** Lines the counts were taken from. */
  readonly totalLines: number;
}

/**
 * Smoothed surprisal `-log p(template)` scaled to 0..1, where `p = (count + α) / (N + α(K + 1))` and
 * a never-seen template (count 0) scores 1. Smoothing keeps a template seen once from looking as
 * certain as one seen a million times.
 */
export function rarityOf(count: number, totalLines: number, templates: number): number {
  const denominator = totalLines + RARITY_ALPHA * (templates + 1);
  const max = Math.log(denominator / RARITY_ALPHA);
  if (max <= 0) return 1;
  return Math.min(1, -Math.log((Math.max(0, count) + RARITY_ALPHA) / denominator) / max);
}

/** Caches the content vector of each template: most lines match a known template. */
export class LineFeaturizer {
  private readonly contentByTemplate = new Map<number, Float64Array>();
  private wordIndex: Map<string, number[]> | undefined;
  private wordCounts: number[] = [];
  private readonly similarityCache = new Map<string, number>();

  constructor(private readonly stats: TemplateStats) {}

  /**
   * Word-set Jaccard similarity of new tokens to the closest training template, through an inverted
   * word index (built on first use). Cached per masked line, bounded, since new lines repeat.
   */
  similarity(tokens: readonly string[], excludeTemplateId = -1): number {
    const key = `${excludeTemplateId} ${tokens.join(' ')}`;
    const cached = this.similarityCache.get(key);
    if (cached !== undefined) return cached;
    if (!this.wordIndex) this.buildWordIndex();
    const words = wordSet(tokens);
    const overlap = new Map<number, number>();
    for (const word of words) {
      for (const id of this.wordIndex!.get(word) ?? []) overlap.set(id, (overlap.get(id) ?? 0) + 1);
    }
    let best = 0;
    for (const [id, shared] of overlap) {
      if (id === excludeTemplateId) continue;
      const jaccard = shared / (words.size + this.wordCounts[id]! - shared);
      if (jaccard > best) best = jaccard;
    }
    if (this.similarityCache.size >= 10_000) this.similarityCache.clear();
    this.similarityCache.set(key, best);
    return best;
  }

  private buildWordIndex(): void {
    this.wordIndex = new Map();
    for (const t of this.stats.miner.templates()) {
      const words = wordSet(t.template.split(' '));
      this.wordCounts[t.templateId] = words.size;
      for (const word of words) {
        const ids = this.wordIndex.get(word);
        if (ids) ids.push(t.templateId);
        else this.wordIndex.set(word, [t.templateId]);
      }
    }
  }

  /**
   * Features of one message.
   * @param leaveOneOut score a training line as if it had not been counted (for threshold fitting)
   */
  featurize(message: string, level: LogLevel | undefined, leaveOneOut = false): LineFeatures {
    const { miner, totalLines } = this.stats;
    const tokens = miner.tokenize(message);
    const match = miner.matchTokens(tokens);
    const severity = severityOf(level, message);
    if (!match) {
      const similarity = this.similarity(tokens);
      return {
        template: tokens.join(' '),
        templateId: undefined,
        novel: true,
        rarity: 1 - 0.4 * similarity,
        similarity,
        severity,
        content: contentVector(tokens, severity),
      };
    }
    const count = leaveOneOut ? match.count - 1 : match.count;
    if (count <= 0) {
      // A training line seen once, scored as if unseen: like any new line, by its closeness to the
      // other templates.
      const similarity = this.similarity(match.template.split(' '), match.templateId);
      return {
        template: match.template,
        templateId: match.templateId,
        novel: true,
        rarity: 1 - 0.4 * similarity,
        similarity,
        severity,
        content: contentVector(match.template.split(' '), severity),
      };
    }
    let content = this.contentByTemplate.get(match.templateId);
    if (!content || content[0] !== severity.level || content[1] !== (severity.failureWord ? 1 : 0)) {
      content = contentVector(match.template.split(' '), severity);
      // Only the common case is cached; a template at another level is recomputed.
      if (!this.contentByTemplate.has(match.templateId))
        this.contentByTemplate.set(match.templateId, content);
    }
    return {
      template: match.template,
      templateId: match.templateId,
      novel: count <= 0,
      similarity: 1,
      rarity: rarityOf(count, leaveOneOut ? totalLines - 1 : totalLines, miner.size),
      severity,
      content,
    };
  }
}

/** Shape and vocabulary of a template as numbers in 0..1. */
export function contentVector(tokens: readonly string[], severity: Severity): Float64Array {
  const v = new Float64Array(CONTENT_SIZE);
  v[0] = severity.level;
  v[1] = severity.failureWord ? 1 : 0;
  v[2] = Math.min(1, Math.log1p(tokens.length) / 5);
  let wildcards = 0;
  for (const token of tokens) {
    if (token === WILDCARD) {
      wildcards++;
      continue;
    }
    v[4 + wordBucket(token)] = 1;
  }
  v[3] = tokens.length === 0 ? 0 : wildcards / tokens.length;
  return v;
}

const DIGIT = /\d/;
const WORD_PUNCTUATION = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;

/** Lower-cased words of a template, without wildcards and surrounding punctuation. */
function wordSet(tokens: readonly string[]): Set<string> {
  const words = new Set<string>();
  for (const token of tokens) {
    // Words with digits (`an14`, `eth0`, `v001`) are mostly unmasked variables: leave them out so a
    // long list of host names does not make a known message look new.
    if (token === WILDCARD || DIGIT.test(token)) continue;
    const word = token.replace(WORD_PUNCTUATION, '').toLowerCase();
    if (word !== '' && word !== '<*>') words.add(word);
  }
  return words;
}

function wordBucket(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    let c = token.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32; // case-insensitive
    hash ^= c;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % WORD_BUCKETS;
}
