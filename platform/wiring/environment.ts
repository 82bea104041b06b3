import type { Manifest } from '../../config/index.ts';
import { WiringInvariantError } from './invariant.ts';
import type { DeliveryStageWiring, PromotionSourceWiring } from './types.ts';

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
 * The ECR repositories of a platform's images share its physical name as their prefix
 * (`shop-staging/`): the bootstrap stack names them so, the images are pushed there, and a later
 * stage's promotion reads the previous stage's by it.
 */
export const repositoryPrefix = (platform: string) => `${platform}/`;

/** The ECR repository of image `image` of platform `platform`: `shop-staging/orders`. */
export const repositoryName = (platform: string, image: string) => `${repositoryPrefix(platform)}${image}`;

/**
 * The stages a release is promoted through, in order. A declaration without environments has one,
 * protected: the GitHub environment its delivery roles trust (`delivery.environment`), under the
 * platform's own name. A declaration with environments gives one stage each, in the promotion order
 * it declares them (staging, then production), protected as declared, under its physical name, each
 * promoted from the one before it: the one place the order becomes "previous". Empty without a
 * declared delivery.
 */
export function deliveryStagesOf(manifest: Manifest): DeliveryStageWiring[] {
  const { name, delivery } = manifest.platform;
  if (delivery === null) return [];
  if (manifest.environments.length === 0) {
    return [
      {
        environment: delivery.environment,
        protected: true,
        declared: false,
        platform: name,
        promotedFrom: null,
      },
    ];
  }
  return manifest.environments.map((environment, index) => {
    const previous = index === 0 ? undefined : manifest.environments[index - 1]!.name;
    return {
      environment: environment.name,
      protected: environment.protected,
      declared: true,
      platform: qualifiedName(name, environment.name),
      promotedFrom:
        previous === undefined ? null : { environment: previous, platform: qualifiedName(name, previous) },
    };
  });
}

/**
 * Where the environment a manifest renders is promoted from: its stage's source (the environment
 * declared just before it, with its physical platform name); null for the first one, and for a
 * manifest without an environment.
 */
export function promotionSourceOf(
  manifest: Manifest,
  stages: readonly DeliveryStageWiring[],
): PromotionSourceWiring | null {
  const environment = manifest.environment;
  if (environment === null) return null;
  const stage = stages.find((s) => s.environment === environment.name);
  if (!stage) {
    throw new WiringInvariantError(
      `${manifest.platform.name}: environment`,
      `'${environment.name}' is not one of the declared environments (${manifest.environments.map((e) => e.name).join(', ')})`,
    );
  }
  return stage.promotedFrom;
}
