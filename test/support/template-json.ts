/**
 * Synthesised template JSON in tests: untyped, as CloudFormation reads it. Each test checks the shape of
 * what it reads (a missing key fails the assertion that reads it).
 */
// biome-ignore lint/suspicious/noExplicitAny: template JSON is untyped; each access checks the shape it reads.
export type Json = any;
