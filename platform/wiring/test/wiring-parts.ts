import type { PlatformWiring } from '../index.ts';
import type { PartFacts } from './renderings.ts';

/** The parts of a rendering as the wiring decides them: what each renderer must render. */
export function wiringParts(wiring: PlatformWiring): PartFacts {
  const parts: PartFacts = {};
  for (const task of wiring.tasks) {
    const s = task.scaling;
    parts[`task ${task.service}: scaling`] = {
      min: s.minTasks,
      max: s.maxTasks,
      targetCpu: s.targetCpuPercent,
      scaleInCooldown: s.scaleInCooldownSeconds,
      scaleOutCooldown: s.scaleOutCooldownSeconds,
    };
    if (task.targetGroup) {
      const tg = task.targetGroup;
      parts[`task ${task.service}: target group`] = {
        port: tg.port,
        path: tg.health.path,
        interval: tg.health.intervalSeconds,
        timeout: tg.health.timeoutSeconds,
        healthy: tg.health.healthyThreshold,
        unhealthy: tg.health.unhealthyThreshold,
        codes: tg.health.healthyHttpCodes,
        deregistration: tg.deregistrationDelaySeconds,
        grace: tg.healthCheckGracePeriodSeconds,
      };
    }
    parts[`task ${task.service}: gate stages`] = [...task.deployment.gateStages];
  }
  // The directory is rendered where a container receives it (a console holding read-service-state).
  const handedOut = wiring.tasks.some((t) =>
    t.containers.some((c) => Object.values(c.environment).some((v) => v.kind === 'service-directory')),
  );
  if (handedOut) {
    parts.directory = wiring.serviceDirectory.map((e) => ({ name: e.name, kind: e.kind }));
    parts['directory health source'] = wiring.serviceDirectory.map((e) => ({
      name: e.name,
      path: e.health.path,
      sidecars: e.anomalies !== null,
    }));
  }
  if (wiring.model) {
    parts.model = { name: wiring.model.name };
    parts['model instances'] = { type: wiring.model.instances.type, count: wiring.model.instances.count };
    const probe = wiring.model.health.probe;
    parts['model health'] =
      probe.kind === 'http' ? probe.path : probe.kind === 'command' ? probe.command.join(' ') : 'process';
  }
  if (wiring.api) {
    parts['api route'] = { method: wiring.api.route.method, path: wiring.api.route.path };
    parts['api stage'] = wiring.api.stage;
    parts['api keys'] = wiring.api.keys.map((k) => ({
      name: k.name,
      rate: k.rateLimitPerSecond,
      burst: k.burstLimit,
      quota: k.dailyQuota,
      required: wiring.api!.keyRequired,
    }));
    parts['api schema'] = wiring.api.requestSchema;
  }
  parts['rollback minimum volume'] = { ...wiring.rollbackPolicy.minimumVolume };
  parts['rollback evaluation periods'] = wiring.rollbackPolicy.evaluationPeriods;
  return parts;
}
