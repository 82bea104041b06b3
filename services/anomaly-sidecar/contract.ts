/**
 * The anomaly sidecar's and the log router's images as this folder builds them. Their boundaries
 * (port, paths, environment names, configuration files) are contracts/sidecar.ts, re-exported here for
 * the sidecar's own code; the containers a task runs them in are the wiring's (platform/wiring).
 */
import { LOG_ROUTER_IMAGE, SIDECAR_PORT } from '../../contracts/sidecar.ts';

export {
  LOG_ROUTER_IMAGE,
  SIDECAR_ENV,
  SIDECAR_IMAGE,
  SIDECAR_PATHS,
  SIDECAR_PORT,
  type SidecarEnvName,
} from '../../contracts/sidecar.ts';

/**
 * V8 flags the image runs the sidecar with (Dockerfile.sidecar CMD). A 2 MiB young generation trades a
 * little GC time for about 30 MiB less RSS at 50k lines/s; the old-space cap makes a leak fail fast in the
 * sidecar instead of growing toward the task's memory (benchmark: README).
 */
export const SIDECAR_NODE_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=64'] as const;

/**
 * Environment the image runs the sidecar with (Dockerfile.sidecar ENV); glibc's malloc, read at start-up.
 * The image is Debian (glibc); the variables mean nothing to another C library.
 * - One malloc arena instead of one per thread that allocates (V8's compiler and GC threads, libuv's pool
 *   each took one, and each kept its freed memory): 5–7 MiB less RSS under the benchmark's load.
 * - Fixed thresholds (glibc otherwise raises them each time a mapped block is freed, and later large
 *   blocks then come from the heap, where only free memory at its top can go back): a block of 16 KiB
 *   or more is mapped on its own and unmapped when freed, and more than 128 KiB free at the heap's top
 *   is returned. Under the benchmark's load malloc's heap held 12 MiB, now 4 MiB; the sidecar's RSS is
 *   77–79 MiB instead of 79–86, for about 3 % fewer lines per CPU-second (medians of five
 *   alternated runs), within the runs' spread (benchmark: README).
 */
export const SIDECAR_PROCESS_ENV = {
  MALLOC_ARENA_MAX: '1',
  MALLOC_MMAP_THRESHOLD_: '16384',
  MALLOC_TRIM_THRESHOLD_: '131072',
} as const;

/**
 * The image's own HEALTHCHECK (ECS `CMD` form), for runs outside ECS. Node is in the image; no
 * curl/wget needed. Exits 0 only on an HTTP 200 within 2 s.
 */
export const SIDECAR_IMAGE_HEALTHCHECK = [
  'CMD',
  'node',
  '-e',
  `fetch('http://127.0.0.1:${SIDECAR_PORT}/health',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
] as const;

/** How the log router image is built and bounded. */
export const LOG_ROUTER = {
  ...LOG_ROUTER_IMAGE,
  /**
   * The base image, pinned by version and digest (also the Dockerfile's default build argument, pinned
   * by a test). aws-for-fluent-bit 2.34 runs Fluent Bit 1.9.10, the version the test suite starts.
   */
  baseImage:
    'public.ecr.aws/aws-observability/aws-for-fluent-bit:2.34.3.20260901@sha256:e6b6b5c03c7912d10757e721641046db83c80ac05796dfbdb2c16cabf7b9a331',
  /** The same files as `configFiles`, in this repository. */
  configSources: {
    scored: 'services/anomaly-sidecar/fluent-bit/extra.conf',
    plain: 'services/anomaly-sidecar/fluent-bit/cloudwatch-only.conf',
  },
  /** The image's entrypoint script that gives FireLens's generated forward inputs filesystem buffering. */
  inputsScript: 'services/anomaly-sidecar/fluent-bit/filesystem-inputs.sh',
  /** Where the configs' `storage.path` keeps chunk files: the task's scratch volume at /tmp. */
  storagePath: '/tmp/flb-storage/',
} as const;
