import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * This package's folder: `node_modules/ecs-anomaly-platform` once a team installs it, this checkout
 * here. Its own parts (the sidecar, the Lambda host, the prediction function, the model it ships, the
 * console's assets) live under it; a team's files never do (they are under `DeclaredPlatform.root`).
 */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

const packageJson = JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, 'utf8')) as {
  name: string;
  bin: Record<string, string>;
};

/** The name a team installs and imports the declaration library by. */
export const PACKAGE_NAME = packageJson.name;

/** The command a team types: the package's one `bin`. */
export const CLI_NAME = Object.keys(packageJson.bin)[0]!;
