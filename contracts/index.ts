export * from './anomaly.ts';
export * from './errors.ts';
export * from './json-body.ts';
export * from './prediction.ts';
