import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * Bundling-time replacement for `@aws-sdk/credential-provider-node` in the Lambda bundles (see
 * `functions/build.ts`). Lambda hands a function its role credentials in the environment
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), which is the first link of the
 * default chain anyway; the rest of the chain (SSO, INI files, process, web identity, IMDS and the
 * nested STS/SSO clients they need) can never apply inside Lambda and costs ~120 KB of bundle and the
 * parse time that goes with it. Unbundled runs (tests, the local runtime) keep the full default chain.
 */
export function defaultProvider(init: Parameters<typeof fromEnv>[0] = {}): AwsCredentialIdentityProvider {
  return fromEnv(init);
}
