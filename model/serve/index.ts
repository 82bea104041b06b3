export { createInferenceApp, type InferenceAppOptions } from './app.ts';
export { type InferenceServerOptions, type RunningInferenceServer, startInferenceServer } from './server.ts';
