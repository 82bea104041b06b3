import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDockerfile } from '../local/dockerfile.ts';

/**
 * What `init` proposes for a repository: one service per Dockerfile it finds (a web service when the
 * Dockerfile exposes a port, an internal one otherwise), or a minimal example service when it finds
 * none; and the declaration that declares them. Pure apart from reading the repository.
 */

/** A service `init` proposes. */
export interface ProposedService {
  readonly name: string;
  readonly kind: 'web' | 'internal';
  /** Relative to the repository. */
  readonly dockerfile: string;
  readonly port: number;
  /** Web services: `/*` for the first, `/<name>/*` for the others. */
  readonly paths: readonly string[];
}

/** Folders never searched for Dockerfiles. */
const SKIPPED = new Set(['node_modules', 'cdk.out', 'dist', 'build', 'coverage', 'vendor', '__pycache__']);

/** The port an internal service without EXPOSE is declared with (its app must listen on PORT). */
export const DEFAULT_INTERNAL_PORT = 8080;

/** Dockerfiles under `root` (`Dockerfile`, `Dockerfile.<x>`, `<x>.Dockerfile`), sorted, at most 4 folders deep. */
export function findDockerfiles(root: string, dir = root, depth = 0): string[] {
  if (depth > 4) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && !SKIPPED.has(entry.name)) {
        found.push(...findDockerfiles(root, join(dir, entry.name), depth + 1));
      }
    } else if (/^Dockerfile(\..+)?$|\.Dockerfile$/i.test(entry.name)) {
      found.push(relative(root, join(dir, entry.name)));
    }
  }
  return found;
}

/** A construct id from a folder or file name: 2–32 lowercase letters, digits or hyphens. */
export function serviceNameOf(dockerfile: string, fallback: string): string {
  const parts = dockerfile.split('/');
  const file = parts.at(-1)!;
  const suffix = /^Dockerfile\.(.+)$/i.exec(file)?.[1] ?? /^(.+)\.Dockerfile$/i.exec(file)?.[1];
  const raw = suffix ?? (parts.length > 1 ? parts.at(-2)! : fallback);
  let name = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  if (name.length < 2) name = `${name || 'svc'}-app`.slice(0, 32);
  return ['sidecar', 'log-router', 'model'].includes(name) ? `${name}-app` : name;
}

/** The services `init` proposes for the Dockerfiles found (names made unique). */
export function proposeServices(
  root: string,
  dockerfiles: readonly string[],
  fallback: string,
): ProposedService[] {
  const taken = new Set<string>();
  let webCount = 0;
  return dockerfiles.map((dockerfile) => {
    const base = serviceNameOf(dockerfile, fallback);
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 29)}-${i}`;
    taken.add(name);
    const facts = parseDockerfile(readFileSync(join(root, dockerfile), 'utf8'));
    const exposed = facts.exposedPorts[0];
    if (exposed === undefined) {
      return { name, kind: 'internal', dockerfile, port: DEFAULT_INTERNAL_PORT, paths: [] };
    }
    webCount += 1;
    return { name, kind: 'web', dockerfile, port: exposed, paths: webCount === 1 ? ['/*'] : [`/${name}/*`] };
  });
}

/** The platform's name from the repository's package.json (else its folder): a construct id. */
export function platformNameOf(root: string): string {
  let raw = root.split('/').at(-1) ?? 'app';
  const packageJson = join(root, 'package.json');
  if (existsSync(packageJson)) {
    const name = (JSON.parse(readFileSync(packageJson, 'utf8')) as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') raw = name.replace(/^@[^/]+\//, '');
  }
  return serviceNameOf(`${raw}/Dockerfile`, 'platform');
}

/** The declaration `init` writes: the platform, the shipped model endpoint, the proposed services. */
export function declarationSource(
  platform: string,
  services: readonly ProposedService[],
  library: string,
): string {
  const kinds = [
    ...new Set(services.map((s) => (s.kind === 'web' ? 'WebService' : 'InternalService'))),
  ].sort();
  const lines = [
    `import { App, Image, ${kinds.join(', ')}, ModelEndpoint, Platform } from '${library}';`,
    '',
    '// Written by init: one service per Dockerfile found (web when it EXPOSEs a port). Paths are relative',
    "// to this repository. Locally, each service runs its Dockerfile's CMD (or `local: { command: [...] }`",
    '// when declared) with PORT, HOST and the callee URLs set; on AWS, the image built from the Dockerfile.',
    'const app = new App();',
    `const platform = new Platform(app, '${platform}', {`,
    "  capacity: { instanceTypes: ['t3.medium', 't3a.medium'], minInstances: 2, maxInstances: 6 },",
    '});',
    '',
    "// Scores every service's logs for anomalies with the model this package ships.",
    "new ModelEndpoint(platform, 'log-anomaly');",
    '',
  ];
  for (const s of services) {
    const construct = s.kind === 'web' ? 'WebService' : 'InternalService';
    lines.push(
      `new ${construct}(platform, '${s.name}', {`,
      `  image: Image.fromDockerfile('${s.dockerfile}'),`,
      s.kind === 'web'
        ? `  port: ${s.port}, // EXPOSE in ${s.dockerfile}`
        : `  port: ${s.port}, // no EXPOSE in ${s.dockerfile}: the app must listen on PORT`,
      ...(s.kind === 'web' && s.paths[0] !== '/*' ? [`  paths: ['${s.paths[0]}'],`] : []),
      "  healthCheck: { path: '/' }, // a path that answers 200 once the service is ready",
      '});',
      '',
    );
  }
  lines.push('export default app;', '');
  return lines.join('\n');
}

/** The minimal example service `init` writes when the repository has no Dockerfile. */
export const EXAMPLE_SERVICE = {
  dockerfile: 'web/Dockerfile',
  files: {
    'web/Dockerfile': [
      'FROM node:22-slim',
      'WORKDIR /app',
      'COPY server.mjs .',
      'USER node',
      'EXPOSE 3000',
      'CMD ["node", "server.mjs"]',
      '',
    ].join('\n'),
    'web/server.mjs': [
      "import { createServer } from 'node:http';",
      '',
      '// The platform sets PORT and HOST (locally a loopback port; on AWS the declared port).',
      'const port = Number(process.env.PORT ?? 3000);',
      'createServer((req, res) => {',
      "  console.log(req.method + ' ' + req.url);",
      "  res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from web\\n');",
      "}).listen(port, process.env.HOST ?? '0.0.0.0');",
      '',
    ].join('\n'),
  },
} as const;
