import { App, ModelEndpoint, OperationsConsole, Platform } from './index.ts';

/**
 * This repository's own platform: a public console (frontend) behind the ALB, a private API
 * (backend) that only the frontend may call, and the log-anomaly model endpoint that scores every
 * task's logs. `npm run synth` renders it to CloudFormation; `npm start` runs it on this machine.
 */
export function declarePlatform(): App {
  const app = new App();
  const platform = new Platform(app, 'acme', {
    capacity: { instanceTypes: ['t3.medium', 't3a.medium'], minInstances: 2, maxInstances: 6 },
    delivery: { githubRepository: 'acme/ecs-anomaly-platform' },
  });

  // The log-anomaly model this package ships (Dockerfile.model, model/artifacts/default).
  new ModelEndpoint(platform, 'log-anomaly');

  // The operations console (this package's own images): the public web server `frontend` and its private
  // API `backend`, the names this platform's console has always had.
  new OperationsConsole(platform, 'frontend', { apiName: 'backend' });

  return app;
}
