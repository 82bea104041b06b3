export { CONSOLE_BASE_PATH_VARIABLE } from '../contracts/console-web.ts';
export { App } from './lib/app.ts';
export { type CronFields, nextFireAfter, shortestCronIntervalMinutes } from './lib/cron.ts';
export { DeclarationError, DeclarationErrors } from './lib/declaration-error.ts';
export * from './lib/deployment.ts';
export * from './lib/job.ts';
export { isDeclarationProblem, loadDeclaration } from './lib/load-declaration.ts';
export * from './lib/manifest.ts';
export { ModelEndpoint, type ModelEndpointProps } from './lib/model-endpoint.ts';
export {
  type ConsoleServiceProps,
  OperationsConsole,
  type OperationsConsoleProps,
} from './lib/operations-console.ts';
export * from './lib/platform.ts';
export * from './lib/service.ts';
export * from './lib/values.ts';
export * from './lib/worker.ts';
