export { App } from './lib/app.ts';
export { DeclarationError, DeclarationErrors } from './lib/declaration-error.ts';
export * from './lib/deployment.ts';
export { isDeclarationProblem, loadDeclaration } from './lib/load-declaration.ts';
export * from './lib/manifest.ts';
export { ModelEndpoint, type ModelEndpointProps } from './lib/model-endpoint.ts';
export * from './lib/platform.ts';
export * from './lib/service.ts';
export * from './lib/values.ts';
