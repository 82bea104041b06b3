import { ECSClient } from '@aws-sdk/client-ecs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { declarePlatform } from '../../../config/declaration.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { runCli } from '../cli.ts';
import { fakeDeps } from './fixtures.ts';

/** This repository's declaration, wired: the services, containers and cluster every CLI test deploys. */
export const WIRING = wirePlatform(declarePlatform().synth());

/**
 * Runs the CLI with fake time and this repository's wiring; records whether an ECS client was built.
 * Release records go to `ssm` (default: a stand-in that accepts every write, for tests about ECS).
 */
export async function cli(
  argv: string[],
  loadWiring = () => WIRING,
  ssm: () => Pick<SSMClient, 'send'> = () =>
    ({ send: async () => ({}) }) as unknown as Pick<SSMClient, 'send'>,
) {
  const { deps, out, err, sleeps } = fakeDeps();
  const regions: (string | undefined)[] = [];
  const code = await runCli(argv, {
    ...deps,
    loadWiring,
    createEcs: (region) => {
      regions.push(region);
      return new ECSClient({
        region: region ?? 'eu-west-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      });
    },
    createSsm: () => ssm(),
  });
  return { code, out, err, regions, sleeps };
}
