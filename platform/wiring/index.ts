export * from './differences.ts';
export * from './types.ts';
export * from './wire.ts';
