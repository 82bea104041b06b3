/**
 * Reading Prometheus text exposition (the sidecar's `/metrics`): what the local runtime reads to tell a
 * job run's sidecar has settled, and what the tests and benchmarks read.
 */

/** Parses exposition text into `name{labels} → value`. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}
