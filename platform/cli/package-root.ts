import { fileURLToPath } from 'node:url';

/**
 * This package's folder: `node_modules/ecs-anomaly-platform` once a team installs it, this checkout
 * here. Its own parts (the sidecar, the Lambda host, the prediction function, the model it ships, the
 * console's assets) live under it; a team's files never do (they are under `DeclaredPlatform.root`).
 */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
