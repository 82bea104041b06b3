import { App, Deployment, ModelEndpoint, OperationsConsole, Platform } from './index.ts';

/**
 * This repository's own platform: a public console (frontend) behind the ALB, a private API
 * (backend) that only the frontend may call, and the log-anomaly model endpoint that scores every
 * task's logs. `npm run synth -- --env staging|production` renders it to CloudFormation; `npm start`
 * runs it on this machine (the local environment: no environment's overrides).
 *
 * Two environments, promoted in this order: staging (smaller, fast canary) and production (protected:
 * a person approves each release; more instances and tasks, a slower canary).
 */
export function declarePlatform(): App {
  const app = new App();
  const platform = new Platform(app, 'acme', {
    capacity: { instanceTypes: ['t3.medium', 't3a.medium'], minInstances: 2, maxInstances: 6 },
    delivery: { githubRepository: 'acme/ecs-anomaly-platform' },
    environments: {
      // One instance per AZ, room for one more: staging runs one task of each service.
      staging: { capacity: { minInstances: 2, maxInstances: 3 } },
      // Three instances to start, room to grow: production runs at least three tasks of each service.
      production: { protected: true, capacity: { minInstances: 3, maxInstances: 12 } },
    },
  });

  // The log-anomaly model this package ships (Dockerfile.model, model/artifacts/default).
  new ModelEndpoint(platform, 'log-anomaly');

  // The operations console (this package's own images): the public web server `frontend` and its private
  // API `backend`, the names this platform's console has always had.
  new OperationsConsole(platform, 'frontend', {
    apiName: 'backend',
    web: {
      environments: {
        // Staging: half the traffic on the new console for 2 minutes; the anomaly gate still decides.
        staging: {
          scaling: { min: 1, max: 2 },
          deployment: Deployment.canary({ percent: 50, bakeMinutes: 2 }),
        },
        // Production: 10 % for 10 minutes, on more tasks.
        production: {
          scaling: { min: 3, max: 12 },
          deployment: Deployment.canary({ percent: 10, bakeMinutes: 10 }),
        },
      },
    },
    api: {
      environments: {
        staging: { scaling: { min: 1, max: 2 } },
        production: { scaling: { min: 3, max: 12 } },
      },
    },
  });

  return app;
}
