export * from './differences.ts';
export * from './invariant.ts';
export * from './lifecycle.ts';
export * from './platform-containers.ts';
export * from './types.ts';
export * from './wire.ts';
