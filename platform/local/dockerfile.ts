/**
 * What a Dockerfile's final stage runs, read the way Docker's builder reads it: instructions joined
 * across `\` continuations, comments dropped, `ENTRYPOINT` and `CMD` in exec (JSON) or shell form and
 * combined as Docker combines them, `ENV`, `WORKDIR` and `EXPOSE`. The local runtime uses it to start an
 * image's own command on the host where the image itself cannot be had; `init` reads the exposed port.
 */

/** The run-time facts of a Dockerfile's final stage. */
export interface DockerfileFacts {
  /** The final stage's base image (`FROM`). */
  readonly from: string | null;
  /** ENTRYPOINT then CMD as Docker combines them; empty when neither is declared. */
  readonly command: readonly string[];
  /** `ENV` of the final stage, in order (later wins). */
  readonly env: Readonly<Record<string, string>>;
  /** The last `WORKDIR` (absolute, inside the image), or null. */
  readonly workdir: string | null;
  /** `EXPOSE`d TCP ports, in order. */
  readonly exposedPorts: readonly number[];
}

/** Parses a Dockerfile's text. Never throws: a malformed instruction is skipped, as far as run-time facts go. */
export function parseDockerfile(text: string): DockerfileFacts {
  let from: string | null = null;
  let entrypoint: { exec: boolean; parts: string[] } | null = null;
  let cmd: { exec: boolean; parts: string[] } | null = null;
  let env: Record<string, string> = {};
  let workdir: string | null = null;
  let exposed: number[] = [];
  for (const { keyword, rest } of instructions(text)) {
    switch (keyword) {
      case 'FROM': {
        // A new stage: only the final one runs.
        from = rest.split(/\s+/).find((word) => !word.startsWith('--')) ?? null;
        entrypoint = null;
        cmd = null;
        env = {};
        workdir = null;
        exposed = [];
        break;
      }
      case 'ENTRYPOINT':
        // Docker drops a CMD inherited from the base image when ENTRYPOINT is set; one declared in this
        // stage (before or after) stays. The base image's is unknown here anyway.
        entrypoint = commandForm(rest);
        break;
      case 'CMD':
        cmd = commandForm(rest);
        break;
      case 'ENV':
        Object.assign(env, envPairs(rest, env));
        break;
      case 'WORKDIR': {
        const dir = expand(rest.trim(), env);
        workdir = dir.startsWith('/') ? dir : `${workdir ?? ''}/${dir}`.replace(/\/+/g, '/');
        break;
      }
      case 'EXPOSE':
        for (const word of rest.split(/\s+/)) {
          const match = /^(\d+)(?:\/tcp)?$/i.exec(expand(word, env));
          if (match) exposed.push(Number(match[1]));
        }
        break;
    }
  }
  return { from, command: combine(entrypoint, cmd), env, workdir, exposedPorts: exposed };
}

/** Docker's rule: a shell-form ENTRYPOINT ignores CMD; an exec-form one takes CMD as arguments. */
function combine(
  entrypoint: { exec: boolean; parts: string[] } | null,
  cmd: { exec: boolean; parts: string[] } | null,
): string[] {
  if (entrypoint) return entrypoint.exec ? [...entrypoint.parts, ...(cmd?.parts ?? [])] : entrypoint.parts;
  return cmd?.parts ?? [];
}

/** Exec form (a JSON array of strings) as is; shell form through `/bin/sh -c`, as Docker runs it. */
function commandForm(rest: string): { exec: boolean; parts: string[] } {
  const trimmed = rest.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) {
        return { exec: true, parts: parsed as string[] };
      }
    } catch {
      // Not valid JSON: Docker runs it in the shell form.
    }
  }
  return { exec: false, parts: ['/bin/sh', '-c', trimmed] };
}

/** `ENV A=1 B="two words"` or the legacy `ENV A one value`. */
function envPairs(rest: string, current: Readonly<Record<string, string>>): Record<string, string> {
  const pairs: Record<string, string> = {};
  const trimmed = rest.trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(trimmed)) {
    const [key, ...value] = trimmed.split(/\s+/);
    if (key) pairs[key] = expand(value.join(' '), current);
    return pairs;
  }
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const match of trimmed.matchAll(pattern)) {
    const raw = match[2]!;
    const value =
      raw.startsWith('"') && raw.endsWith('"')
        ? raw.slice(1, -1).replace(/\\(.)/g, '$1')
        : raw.startsWith("'")
          ? raw.slice(1, -1)
          : raw;
    pairs[match[1]!] = raw.startsWith("'") ? value : expand(value, { ...current, ...pairs });
  }
  return pairs;
}

/** `$VAR` and `${VAR}` from the stage's ENV so far. */
function expand(value: string, env: Readonly<Record<string, string>>): string {
  return value.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_, a, b) => env[a ?? b] ?? '',
  );
}

/** Instructions with their keyword upper-cased, continuation lines joined, comments and blanks dropped. */
function* instructions(text: string): Generator<{ keyword: string; rest: string }> {
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (current === '' && /^\s*#/.test(line)) continue;
    if (current !== '' && /^\s*#/.test(line)) continue; // comments inside a continuation are dropped
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(current);
    current = '';
    if (match) yield { keyword: match[1]!.toUpperCase(), rest: match[2]! };
  }
}
