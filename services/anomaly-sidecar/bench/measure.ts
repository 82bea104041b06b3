import { readFileSync } from 'node:fs';

/** Measurements of the benchmark: RSS from /proc, counters and the latency histogram from /metrics. */

export function rssMiB(pid: number): number {
  const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
  return (pages * 4096) / 1024 / 1024;
}
export function sampleRss(pid: number): { stop: () => number } {
  let max = rssMiB(pid);
  const timer = setInterval(() => {
    max = Math.max(max, rssMiB(pid));
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(max, rssMiB(pid));
    },
  };
}
export const dropped = (m: Map<string, number>) =>
  [...m].filter(([k]) => k.startsWith('sidecar_records_dropped_total')).reduce((n, [, v]) => n + v, 0);
export const scored = (m: Map<string, number>) => m.get('sidecar_records_scored_total') ?? 0;

/** p99 of the intake-to-scored histogram between two scrapes: the upper bound of the bucket holding it. */
export function p99Ms(before: Map<string, number>, after: Map<string, number>): number {
  const name = 'sidecar_intake_to_scored_seconds_bucket';
  const buckets = [...after]
    .filter(([k]) => k.startsWith(name) && !k.includes('+Inf'))
    .map(([k, v]) => ({ le: Number(/le="([^"]+)"/.exec(k)![1]), n: v - (before.get(k) ?? 0) }));
  const total = (after.get(`${name}{le="+Inf"}`) ?? 0) - (before.get(`${name}{le="+Inf"}`) ?? 0);
  const bucket = buckets.find((b) => b.n >= 0.99 * total);
  return bucket ? bucket.le * 1000 : Number.POSITIVE_INFINITY;
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
