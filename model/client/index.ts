export * from './scoring-client.ts';
