import { spawnSync } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { sharedPath } from '../../../test/support/shared-folder.ts';

/**
 * Which Fluent Bit the tests, `bench:router` and `images:verify` run, and what that build can do.
 *
 * The build every test and CI may rely on is the shared one (`../shared/tools/fluent-bit`, README there):
 * the real 1.9.10 with a few plugins, and without the storage backlog input, so any `storage.path` makes
 * it exit ("cannot init storage backlog input plugin"). The router's shipped config uses filesystem
 * buffering (what aws-for-fluent-bit runs on AWS); a run on a build that cannot do it goes through
 * {@link MEMORY_BUFFERING_WRAPPER}, which removes it and says so loudly. `FLUENT_BIT_BIN` names a
 * fuller build for local measurement (never committed, never required).
 */

/** The shared build (undefined when `../shared/tools/fluent-bit` is not beside the repository). */
export const SHARED_FLUENT_BIT = sharedPath('tools', 'fluent-bit', 'bin', 'fluent-bit');

/** The shape of the main config ECS FireLens generates, from the shared folder (README there). */
export const FIRELENS_MAIN_CONF = sharedPath('tools', 'fluent-bit', 'firelens-main.conf');

/**
 * Test-only: runs a build without the storage backlog input on a config with every `storage.*` key
 * removed (the script's header says how). Used by the test harness and baked into the router stand-in
 * of `images:verify` in front of such a build; never part of the shipped image.
 */
export const MEMORY_BUFFERING_WRAPPER = fileURLToPath(
  new URL('./fluent-bit-memory-buffering.sh', import.meta.url),
);

/** `FLUENT_BIT_BIN` when set, else the shared build; undefined when that is not an executable file. */
export function findFluentBit(): string | undefined {
  const candidate = process.env.FLUENT_BIT_BIN || SHARED_FLUENT_BIT;
  if (!candidate) return undefined;
  try {
    accessSync(candidate, constants.X_OK);
    return candidate;
  } catch {
    return undefined;
  }
}

/** What a Fluent Bit build can do that the router's configs or tests need, read from its `-h`. */
export interface FluentBitCapabilities {
  /**
   * The storage backlog input (build flag FLB_HAVE_IN_STORAGE_BACKLOG): without it Fluent Bit refuses
   * `storage.path`, so no filesystem buffering.
   */
  readonly storageBacklog: boolean;
  /** The `multiline` filter (listed under Filters). */
  readonly multilineFilter: boolean;
}

const known = new Map<string, FluentBitCapabilities>();

/** The capabilities of the build at `bin`, from its help text (plugins and build flags). */
export function fluentBitCapabilities(bin: string): FluentBitCapabilities {
  const cached = known.get(bin);
  if (cached) return cached;
  const help = spawnSync(bin, ['-h'], { encoding: 'utf8', timeout: 10_000 });
  if (help.error || typeof help.stdout !== 'string') {
    throw new Error(`${bin} -h did not run: ${String(help.error ?? help.stderr)}`);
  }
  // Without the terminal escapes around the headings (bold "Filters").
  const text = stripVTControlCharacters(help.stdout);
  const filters = /^Filters\n([\s\S]*?)\n\n/m.exec(text)?.[1] ?? '';
  const capabilities = {
    storageBacklog: /\bFLB_HAVE_IN_STORAGE_BACKLOG\b/.test(text),
    multilineFilter: /^\s+multiline\s/m.test(filters),
  };
  known.set(bin, capabilities);
  return capabilities;
}

/**
 * Whether `bin` is the shared build: upstream 1.9.10 without aws-for-fluent-bit's patches (its README).
 * Its `cloudwatch_logs` is a synchronous output, and upstream 1.9.10 frees a task still queued for such an
 * output once the other output matching the tag (our `http`) has finished it: Fluent Bit dies (SIGSEGV,
 * SIGBUS) as soon as a CloudWatch flush is still running when the next flush comes. aws-for-fluent-bit
 * fixes it ("core: sync scheduler resolve multi task user issue"); no `-h` shows the fix, so the shared
 * build is known by its path.
 */
export function isSharedBuild(bin: string): boolean {
  return SHARED_FLUENT_BIT !== undefined && realpathSync(bin) === realpathSync(SHARED_FLUENT_BIT);
}

/** Why the shared build runs the router's config with a 1 s flush (see {@link isSharedBuild}). */
export function slowerFlushNotice(bin: string): string {
  return (
    `TEST-ONLY DIFFERENCE: ${bin} is upstream 1.9.10 without aws-for-fluent-bit's fix for two outputs on ` +
    'one tag (a task queued for the synchronous cloudwatch_logs output is freed when the http output ' +
    'finishes it first; seen as SIGBUS in the fault suite on a loaded machine), so the router runs here with ' +
    'Flush 1 instead of the shipped 0.2: the crash then needs a CloudWatch flush slower than 1 s, not 0.2 s'
  );
}

/** Why a build lacking the storage backlog input runs the router's config without filesystem buffering. */
export function memoryBufferingNotice(bin: string): string {
  return (
    `TEST-ONLY DIFFERENCE: ${bin} has no storage backlog input (FLB_HAVE_IN_STORAGE_BACKLOG is not among ` +
    'its build flags), so it cannot buffer on disk and refuses storage.path; the router runs here with every ' +
    'storage.* key removed (memory buffering). The shipped config keeps filesystem buffering, which ' +
    'aws-for-fluent-bit has on AWS; FLUENT_BIT_BIN=<a build with it> tests that'
  );
}
