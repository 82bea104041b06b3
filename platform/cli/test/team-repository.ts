import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../cli.ts';

/**
 * A team's repository for the CLI's tests: a temporary folder outside this one, with its own
 * `package.json` (CommonJS unless `type` is given, as `npm init` writes it) depending on this package,
 * installed as `node_modules/ecs-anomaly-platform` (a link to this checkout, as `npm install` of a
 * folder makes it).
 */

/** This checkout: the package the team repository installs. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** The package's name as a team imports it. */
export const PACKAGE_NAME = 'ecs-anomaly-platform';

export interface TeamRepository {
  readonly root: string;
  /** Writes a file (creating its folders) and returns its absolute path. */
  write(path: string, text: string): string;
  remove(): void;
}

export function teamRepository(options: { readonly type?: 'module' | 'commonjs' } = {}): TeamRepository {
  const root = mkdtempSync(join(tmpdir(), 'team-repo-'));
  const write = (path: string, text: string) => {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  write(
    'package.json',
    `${JSON.stringify(
      {
        name: 'team',
        version: '1.0.0',
        ...(options.type ? { type: options.type } : {}),
        // As `npm install --save-dev <this checkout>` records it (the workflow's npm ci installs it).
        devDependencies: { [PACKAGE_NAME]: `file:${PACKAGE_ROOT}` },
      },
      null,
      2,
    )}\n`,
  );
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  symlinkSync(PACKAGE_ROOT, join(root, 'node_modules', PACKAGE_NAME), 'dir');
  return { root, write, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** A declaration of one web service built from `dockerfile` and started from `entry`, without scoring. */
export function webDeclaration(options: {
  readonly dockerfile?: string;
  readonly entry?: string;
  readonly platform?: string;
}): string {
  return [
    `import { App, Image, Platform, WebService } from '${PACKAGE_NAME}';`,
    '',
    'const app = new App();',
    `const platform = new Platform(app, '${options.platform ?? 'shop'}', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });`,
    "new WebService(platform, 'web', {",
    `  image: Image.fromDockerfile('${options.dockerfile ?? 'Dockerfile'}', { entry: '${options.entry ?? 'server.ts'}' }),`,
    '  port: 3000,',
    '  anomaly: { enabled: false },',
    '});',
    'export default app;',
    '',
  ].join('\n');
}

/** The CLI in-process, from `cwd` (the team's repository) when given, with an empty environment. */
export async function cliIn(argv: string[], cwd?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const previous = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    const code = await runCli(argv, { env: {}, out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    process.chdir(previous);
  }
}
