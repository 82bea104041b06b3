import { App, Deployment, Image, InternalService, ModelEndpoint, Platform, WebService } from './index.ts';

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

  const backend = new InternalService(platform, 'backend', {
    image: Image.fromDockerfile('Dockerfile.backend', { entry: 'services/backend/main.ts' }),
    port: 8081,
    scaling: { min: 2, max: 6, targetCpuPercent: 60 },
    // The backend serves the operations console: anomaly series and lines for every service, and
    // the prediction playground (`/api/predict` → the model endpoint).
    platformAccess: { readAnomalies: true, invokeModel: true },
    // Internal: rolling (no load balancer to shift traffic at), rolled back on the new revision's anomaly
    // rate. An idle release is probed on its health path and on an API route the console reads.
    deployment: Deployment.rolling({ probes: ['/healthz', '/api/deployments'] }),
    environments: {
      staging: { scaling: { min: 1, max: 2 } },
      production: { scaling: { min: 3, max: 12 } },
    },
  });

  new WebService(platform, 'frontend', {
    image: Image.fromDockerfile('Dockerfile.frontend', { entry: 'services/frontend/server/main.ts' }),
    port: 8080,
    talksTo: [backend],
    scaling: { min: 2, max: 6, targetCpuPercent: 60 },
    // 10 % of traffic to a new console for 5 minutes, rolled back on its anomaly rate, 5xx or health.
    deployment: Deployment.canary({ percent: 10, bakeMinutes: 5 }),
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
  });

  return app;
}
