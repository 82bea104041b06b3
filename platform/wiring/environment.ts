import type { Manifest } from '../../config/index.ts';
import { WiringInvariantError } from './invariant.ts';
import type { PromotionSourceWiring } from './types.ts';

/**
 * Where an environment's physical names come from. Every name the platform gives in an account (the
 * stacks, the cluster, task families, the Cloud Map namespace, ECR repositories, release records, the
 * user pool, web ACLs, the API's usage plans) is made from the platform's name, and the model
 * endpoint's from its own: an environment qualifies both with its name, once, here, so two
 * environments in one account never share a name. A manifest without an environment (a declaration
 * that declares none, and `start`'s local one) keeps its names as they are.
 */
export function physicalNamesOf(manifest: Manifest): Manifest {
  const environment = manifest.environment;
  if (environment === null) return manifest;
  const qualify = (name: string) => qualifiedName(name, environment.name);
  return {
    ...manifest,
    platform: {
      ...manifest.platform,
      name: qualify(manifest.platform.name),
      // The deploy job of an environment runs in the GitHub environment of its name: the protection
      // rules of a protected one are what stand before it.
      delivery: manifest.platform.delivery
        ? { ...manifest.platform.delivery, environment: environment.name }
        : null,
    },
    model: manifest.model ? { ...manifest.model, name: qualify(manifest.model.name) } : null,
  };
}

/** A name of the platform's (or the model's) in environment `environment`: `shop-production`. */
const qualifiedName = (name: string, environment: string) => `${name}-${environment}`;

/**
 * Where the environment a manifest renders is promoted from: the environment declared just before it
 * (the declaration's promotion order), with its physical platform name; null for the first one, and
 * for a manifest without an environment. The one place the order becomes "previous".
 */
export function promotionSourceOf(manifest: Manifest): PromotionSourceWiring | null {
  const environment = manifest.environment;
  if (environment === null) return null;
  const index = manifest.environments.findIndex((e) => e.name === environment.name);
  if (index < 0) {
    throw new WiringInvariantError(
      `${manifest.platform.name}: environment`,
      `'${environment.name}' is not one of the declared environments (${manifest.environments.map((e) => e.name).join(', ')})`,
    );
  }
  if (index === 0) return null;
  const previous = manifest.environments[index - 1]!.name;
  return { environment: previous, platform: qualifiedName(manifest.platform.name, previous) };
}
