import { mkdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { FUNCTION_NAMES, type FunctionName } from '../contracts/functions.ts';

/**
 * The one bundler of the Lambda functions, used by `npm run bench:functions` and by the CDK
 * constructs (local bundling), so the measured artifact is the deployed one.
 *
 * Size measures that esbuild's CLI cannot express (hence the API, not NodejsFunction's CLI call):
 * - `import { z } from 'zod'` hands esbuild a re-exported namespace object, which it cannot
 *   tree-shake (rollup and webpack can, zod#6050), so all of zod (every locale, JSON-schema
 *   conversion, …) lands in the bundle. Rewritten to `import * as z from 'zod/v4'`, the same
 *   module instances (so `instanceof` and the registry behave identically), whose property accesses
 *   esbuild does shake: zod drops from ~190 KB to what the schemas use.
 * - What is left of zod's locale index is replaced by `en` alone: the functions use English only
 *   (zod's default locale).
 * - `@aws-sdk/credential-provider-node` (the default chain) is aliased to the environment provider;
 *   see shared/lambda-credentials.ts for why that is exactly what Lambda uses.
 * - The AWS SDK's schema modules (`dist-es/schemas/schemas_0.js`) describe every shape of a
 *   service as `export var X$ = [...]`, with trait objects keyed by string constants
 *   (`{ [_xN]: _II }`). Minified, esbuild keeps any declaration whose object literal has a computed
 *   key it did not inline (`toString` could run), so none of them can be dropped and a client
 *   ships every shape of its service (EC2: 552 KB for one `RebootInstances`). Inlining those keys
 *   as the string literals they are changes nothing at run time and lets the unused shapes go.
 */

export { FUNCTION_NAMES, type FunctionName };

const here = dirname(fileURLToPath(import.meta.url));

const ZOD_NAMED_IMPORT = /import \{ z \} from ['"]zod['"];?/g;

const zodNamespaceImport: esbuild.Plugin = {
  name: 'zod-namespace-import',
  setup(build) {
    build.onLoad({ filter: /\.(ts|js|mjs)$/ }, async (args) => {
      if (/[\\/]node_modules[\\/]zod[\\/]/.test(args.path)) return undefined;
      const source = await readFile(args.path, 'utf8');
      const rewritten = source.replace(ZOD_NAMED_IMPORT, "import * as z from 'zod/v4';");
      if (rewritten === source) return undefined;
      return {
        contents: rewritten,
        loader: args.path.endsWith('.ts') ? 'ts' : 'js',
      };
    });
  },
};

const zodEnglishOnly: esbuild.Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core|mini)[\\/]/.test(args.importer)
        ? { path: 'zod-locales-en', namespace: 'zod-locales' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: here,
    }));
  },
};

const SCHEMA_MODULE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/][^\\/]+\.js$/;
const STRING_CONSTANT = /^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm;
const COMPUTED_KEY = /\[(_\w+)\]:/g;

/** Replaces `[_name]:` keys by the string literal `_name` is declared as (see the note above). */
export function inlineSchemaKeys(source: string): string {
  const constants = new Map<string, string>();
  for (const [, name, literal] of source.matchAll(STRING_CONSTANT))
    if (name && literal) constants.set(name, literal);
  return source.replace(COMPUTED_KEY, (key, name: string) => {
    const literal = constants.get(name);
    return literal === undefined ? key : `[${literal}]:`;
  });
}

const awsSdkSchemaKeys: esbuild.Plugin = {
  name: 'aws-sdk-schema-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMA_MODULE }, async (args) => ({
      contents: inlineSchemaKeys(await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

/** Result of {@link bundleFunction}. */
export interface FunctionBundle {
  /** The bundle file (`index.mjs`, handler export `handler`). */
  readonly file: string;
  readonly bytes: number;
  /** Output bytes per package, largest first: where the size comes from. */
  readonly byPackage: Readonly<Record<string, number>>;
}

/**
 * Bundles `functions/<name>/handler.ts` into `<outdir>/index.mjs`: ESM, minified, Node 20+, AWS SDK
 * included (the function does not depend on the runtime's SDK version).
 *
 * @example
 * const { file, bytes } = await bundleFunction('predict', '.local/functions/predict');
 */
export async function bundleFunction(name: FunctionName, outdir: string): Promise<FunctionBundle> {
  mkdirSync(outdir, { recursive: true });
  return bundleEntry(join(here, name, 'handler.ts'), join(outdir, 'index.mjs'));
}

/** Bundles any entry module exactly as the functions are bundled (tests bundle probes with it). */
export async function bundleEntry(entry: string, file: string): Promise<FunctionBundle> {
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    mainFields: ['module', 'main'],
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'error',
    metafile: true,
    plugins: [zodNamespaceImport, zodEnglishOnly, awsSdkSchemaKeys],
    alias: { '@aws-sdk/credential-provider-node': join(here, 'shared', 'lambda-credentials.ts') },
    // Some dependencies still call require() on Node built-ins; ESM output needs a require to exist.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return { file, bytes: statSync(file).size, byPackage: bytesByPackage(result.metafile) };
}

/** Output bytes per npm package (`(source)` for this repository's own code), largest first. */
function bytesByPackage(metafile: esbuild.Metafile): Record<string, number> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const key = match?.[1] ?? '(source)';
      totals.set(key, (totals.get(key) ?? 0) + bytesInOutput);
    }
  }
  return Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]));
}

// CLI: node --import tsx functions/build.ts <name> <outdir>   (used by the CDK local bundling)
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, outdir] = process.argv.slice(2);
  if (!FUNCTION_NAMES.includes(name as FunctionName) || !outdir) {
    console.error(`usage: build.ts <${FUNCTION_NAMES.join('|')}> <outdir>`);
    process.exit(2);
  }
  const { file, bytes, byPackage } = await bundleFunction(name as FunctionName, outdir);
  console.log(`${file} ${bytes} bytes`);
  if (process.env.BUNDLE_BREAKDOWN === '1') console.log(byPackage);
}
