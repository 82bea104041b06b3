/**
 * A minimal Prometheus text-format (version 0.0.4) registry: counters with one optional label, gauges
 * read at scrape time, and cumulative histograms. Small enough to own, so the sidecar image carries no
 * metrics library and the hot path is a property increment.
 */

type Labels = Readonly<Record<string, string>>;

/** A monotonically increasing count, optionally split by one label. */
export class Counter<L extends string = never> {
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly label?: string,
    /** Label values always rendered (as 0 until incremented), so dashboards see every reason. */
    knownValues: readonly L[] = [],
  ) {
    for (const value of knownValues) this.values.set(value, 0);
    if (!label) this.values.set('', 0);
  }

  inc(by = 1, labelValue?: L): void {
    if (by === 0) return;
    const key = labelValue ?? '';
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  /** The current value (of one label value, or the sum of all). */
  get(labelValue?: L): number {
    if (labelValue !== undefined) return this.values.get(labelValue) ?? 0;
    let sum = 0;
    for (const v of this.values.values()) sum += v;
    return sum;
  }

  /** A copy of every label value's count. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.values) {
      lines.push(`${this.name}${this.label ? labels({ [this.label]: key }) : ''} ${value}`);
    }
    return lines.join('\n');
  }
}

/** A value read when scraped. */
export class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n${this.name} ${this.read()}`;
  }
}

/** A cumulative histogram with fixed upper bounds (seconds). */
export class Histogram {
  private readonly counts: Float64Array;
  private sum = 0;
  private total = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number, times = 1): void {
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]!) {
        this.counts[i]! += times;
        break;
      }
    }
    this.sum += value * times;
    this.total += times;
  }

  get count(): number {
    return this.total;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      lines.push(`${this.name}_bucket${labels({ le: String(this.bounds[i]) })} ${cumulative}`);
    }
    lines.push(`${this.name}_bucket${labels({ le: '+Inf' })} ${this.total}`);
    lines.push(`${this.name}_sum ${this.sum}`, `${this.name}_count ${this.total}`);
    return lines.join('\n');
  }
}

/** Renders metrics as one exposition body. */
export function renderPrometheus(metrics: readonly { render(): string }[]): string {
  return `${metrics.map((m) => m.render()).join('\n')}\n`;
}

function labels(values: Labels): string {
  const parts = Object.entries(values).map(
    ([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"')}"`,
  );
  return `{${parts.join(',')}}`;
}

/** One parser for exposition text, in the runtime room (the local runtime reads it too). */
export { parsePrometheus } from '../../../runtime/prometheus-text.ts';
