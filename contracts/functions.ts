/**
 * The platform's Lambda functions by name: what the AWS renderer asks the bundler for
 * (`tsx functions/build.ts <name> <outdir>`) and what the bundler builds, each from
 * `functions/<name>/handler.ts`.
 */
export const FUNCTION_NAMES = ['predict', 'log-scorer', 'remediate', 'deployment-gate'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];
