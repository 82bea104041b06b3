import { maskVariables, WILDCARD } from './mask.ts';

/**
 * Drain-style online template mining (He et al., "Drain: An Online Log Parsing Approach with Fixed
 * Depth Tree", ICWS 2017): messages are routed by token count, then by their first tokens, to a small
 * leaf of candidate templates; the most similar one above a threshold absorbs the message (differing
 * tokens become `<*>`), otherwise the message starts a new template. No npm package maintains Drain,
 * so it lives here, pinned by grouping-accuracy tests against loghub's ground truth.
 */

/** Settings of a {@link TemplateMiner}. */
export interface TemplateMinerOptions {
  /** Tree depth including the root and the length layer; `depth - 2` leading tokens route. @default 4 */
  readonly depth?: number;
  /** Fraction of equal tokens for a message to join a template. @default 0.5 */
  readonly similarityThreshold?: number;
  /** Children per inner node before further tokens route to the wildcard child. @default 100 */
  readonly maxChildren?: number;
  /** Apply {@link maskVariables} before mining. @default true */
  readonly mask?: boolean;
}

/** The outcome of {@link TemplateMiner.add}. */
export interface TemplateMatch {
  /** Stable id of the template (creation order, from 0). */
  readonly templateId: number;
  /** The template as it stands after this message, `<*>` for variables. */
  readonly template: string;
  /** Whether this message created the template. */
  readonly isNew: boolean;
}

/** A mined template and how many messages it absorbed. */
export interface MinedTemplate {
  readonly templateId: number;
  readonly template: string;
  readonly count: number;
}

/** The miner's state as plain JSON, for model artifacts. */
export interface TemplateMinerState {
  readonly options: Required<TemplateMinerOptions>;
  readonly templates: MinedTemplate[];
}

interface Cluster {
  readonly id: number;
  tokens: string[];
  count: number;
}

interface TreeNode {
  readonly children: Map<string, TreeNode>;
  readonly clusters: Cluster[];
}

const newNode = (): TreeNode => ({ children: new Map(), clusters: [] });
const DIGIT = /\d/;
const WHITESPACE = /\s+/;
const TRAILING_PUNCTUATION = /^<\*>[:,;.)]+$/;

/**
 * A fixed-depth prefix tree of log templates.
 *
 * @example
 * const miner = new TemplateMiner();
 * miner.add('Connection from 10.0.0.1 closed'); // { templateId: 0, template: 'Connection from <*> closed', isNew: true }
 * miner.match('Connection from 10.0.0.2 closed')?.templateId; // 0
 */
export class TemplateMiner {
  readonly options: Required<TemplateMinerOptions>;
  private readonly root = newNode();
  private readonly clusters: Cluster[] = [];

  constructor(options: TemplateMinerOptions = {}) {
    this.options = {
      depth: options.depth ?? 4,
      similarityThreshold: options.similarityThreshold ?? 0.5,
      maxChildren: options.maxChildren ?? 100,
      mask: options.mask ?? true,
    };
    if (this.options.depth < 3) throw new RangeError(`depth must be at least 3; got ${this.options.depth}`);
  }

  /** Number of templates mined so far. */
  get size(): number {
    return this.clusters.length;
  }

  /** Adds a message: it joins the most similar template or founds a new one. */
  add(message: string): TemplateMatch {
    const tokens = this.tokenize(message);
    const leaf = this.leafFor(tokens, true)!;
    const best = this.bestCluster(leaf.clusters, tokens);
    if (best) {
      best.count++;
      const merged = mergeTokens(best.tokens, tokens);
      if (merged) best.tokens = merged;
      return { templateId: best.id, template: best.tokens.join(' '), isNew: false };
    }
    const cluster: Cluster = { id: this.clusters.length, tokens, count: 1 };
    this.clusters.push(cluster);
    leaf.clusters.push(cluster);
    return { templateId: cluster.id, template: tokens.join(' '), isNew: true };
  }

  /** The template a message would join, without changing the miner; `undefined` when it is new. */
  match(message: string): MinedTemplate | undefined {
    return this.matchTokens(this.tokenize(message));
  }

  /** {@link match} for a message already {@link tokenize}d (a caller that needs the tokens anyway). */
  matchTokens(tokens: readonly string[]): MinedTemplate | undefined {
    const leaf = this.leafFor(tokens, false);
    if (!leaf) return undefined;
    const best = this.bestCluster(leaf.clusters, tokens);
    return best ? { templateId: best.id, template: best.tokens.join(' '), count: best.count } : undefined;
  }

  /** The template with this id. */
  template(templateId: number): MinedTemplate | undefined {
    const c = this.clusters[templateId];
    return c ? { templateId: c.id, template: c.tokens.join(' '), count: c.count } : undefined;
  }

  /** Every template, in id order. */
  templates(): MinedTemplate[] {
    return this.clusters.map((c) => ({ templateId: c.id, template: c.tokens.join(' '), count: c.count }));
  }

  /** The miner's state, for an artifact. */
  toJSON(): TemplateMinerState {
    return { options: this.options, templates: this.templates() };
  }

  /** Rebuilds a miner from {@link toJSON}; templates are re-inserted in id order, so ids are kept. */
  static fromJSON(state: TemplateMinerState): TemplateMiner {
    const miner = new TemplateMiner(state.options);
    for (const t of state.templates) {
      const tokens = t.template.split(' ');
      const leaf = miner.leafFor(tokens, true)!;
      const cluster: Cluster = { id: miner.clusters.length, tokens, count: t.count };
      miner.clusters.push(cluster);
      leaf.clusters.push(cluster);
    }
    return miner;
  }

  /** Masked tokens of a message; the empty message is one empty token so it still has a template. */
  tokenize(message: string): string[] {
    const text = (this.options.mask ? maskVariables(message) : message).trim();
    if (text === '') return [''];
    const tokens = text.split(WHITESPACE);
    // `<*>:` and `<*>,` are the same variable as `<*>`: punctuation glued to a mask must not split
    // templates (`Error loading /a/b: …` vs `Error loading ./b …`).
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.length > 3 && t.startsWith(WILDCARD) && TRAILING_PUNCTUATION.test(t)) tokens[i] = WILDCARD;
    }
    return tokens;
  }

  private leafFor(tokens: readonly string[], create: boolean): TreeNode | undefined {
    const lengthKey = String(tokens.length);
    let node: TreeNode | undefined = this.root.children.get(lengthKey);
    if (!node) {
      if (!create) return undefined;
      node = newNode();
      this.root.children.set(lengthKey, node);
    }
    // The last token never routes: in a two-word message (`removing ftp`) it is as likely the variable.
    const routed = Math.min(this.options.depth - 2, tokens.length - 1);
    for (let i = 0; i < routed; i++) {
      // Tokens with digits are likely variables: route them through the wildcard child so that
      // `node12 up` and `node13 up` meet in the same leaf.
      const raw = tokens[i]!;
      const key = DIGIT.test(raw) ? WILDCARD : raw;
      let next: TreeNode | undefined = node.children.get(key);
      if (!next && create) {
        if (node.children.size < this.options.maxChildren || key === WILDCARD) {
          next = newNode();
          node.children.set(key, next);
        } else {
          next = node.children.get(WILDCARD);
          if (!next) {
            next = newNode();
            node.children.set(WILDCARD, next);
          }
        }
      } else if (!next) {
        next = node.children.get(WILDCARD);
      }
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  private bestCluster(candidates: readonly Cluster[], tokens: readonly string[]): Cluster | undefined {
    let best: Cluster | undefined;
    let bestSimilarity = -1;
    let bestWildcards = -1;
    for (const cluster of candidates) {
      const t = cluster.tokens;
      let same = 0;
      let wildcards = 0;
      for (let i = 0; i < t.length; i++) {
        const token = t[i]!;
        // A masked variable meets the template's wildcard as an equal token; a template wildcard over a
        // constant word neither helps nor hurts, as in Drain.
        if (token === tokens[i]) same++;
        else if (token === WILDCARD) wildcards++;
      }
      const similarity = same / t.length;
      if (similarity > bestSimilarity || (similarity === bestSimilarity && wildcards > bestWildcards)) {
        best = cluster;
        bestSimilarity = similarity;
        bestWildcards = wildcards;
      }
    }
    return best && bestSimilarity >= this.options.similarityThreshold ? best : undefined;
  }
}

/** The template generalised to cover `tokens`, or `undefined` when it already does. */
function mergeTokens(template: readonly string[], tokens: readonly string[]): string[] | undefined {
  let merged: string[] | undefined;
  for (let i = 0; i < template.length; i++) {
    if (template[i] !== WILDCARD && template[i] !== tokens[i]) {
      merged ??= template.slice();
      merged[i] = WILDCARD;
    }
  }
  return merged;
}
