import type { Manifest } from '../../config/index.ts';

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
  const qualify = (name: string) => `${name}-${environment.name}`;
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
