import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { parseBackendEnv } from '../src/config.ts';

function issues(env: Record<string, string>): string[] {
  try {
    parseBackendEnv(env);
  } catch (error) {
    assert.ok(error instanceof z.ZodError);
    return error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  }
  return assert.fail('expected the environment to be rejected');
}

describe('backend environment', () => {
  test('defaults: port 8081 on all interfaces, local anomaly source, no services, faults off', () => {
    assert.deepEqual(parseBackendEnv({ PORT: '', UNRELATED: 'x' }), {
      PORT: 8081,
      HOST: '0.0.0.0',
      SERVICES: [],
      JOBS: [],
      ANOMALY_SOURCE: 'local',
      ANOMALY_LOOKBACK_MINUTES: 60,
      MODEL_TIMEOUT_MS: 2000,
      UPSTREAM_TIMEOUT_MS: 1500,
      FAULTS_ENABLED: false,
      FAULT_ERROR_RATE: 0,
      OPERATIONS_SOURCE: 'local',
      REMEDIATION_COOLDOWN_SECONDS: 600,
      REMEDIATION_MAX_ACTIONS_PER_WINDOW: 6,
      REMEDIATION_WINDOW_SECONDS: 3600,
      HEALTH_INTERVAL_MS: 5000,
    });
  });

  test('a bad release on purpose: FAULT_ERROR_RATE only with the fault switch enabled', () => {
    assert.equal(parseBackendEnv({ FAULTS_ENABLED: '1', FAULT_ERROR_RATE: '0.5' }).FAULT_ERROR_RATE, 0.5);
    assert.throws(
      () => parseBackendEnv({ FAULT_ERROR_RATE: '0.5' }),
      (error: Error) => error.message.includes('needs FAULTS_ENABLED=1'),
    );
    assert.throws(() => parseBackendEnv({ FAULTS_ENABLED: '1', FAULT_ERROR_RATE: '2' }));
  });

  test('aws operations need the ECS cluster', () => {
    assert.throws(
      () => parseBackendEnv({ OPERATIONS_SOURCE: 'aws' }),
      (error: Error) =>
        error.message.includes('ECS_CLUSTER') && error.message.includes('OPERATIONS_SOURCE=aws'),
    );
    assert.equal(parseBackendEnv({ OPERATIONS_SOURCE: 'aws', ECS_CLUSTER: 'acme' }).ECS_CLUSTER, 'acme');
  });

  test('a full local wiring', () => {
    const env = parseBackendEnv({
      PORT: '9000',
      SERVICES:
        '[{"name":"frontend","healthUrl":"http://127.0.0.1:8080/healthz","sidecarUrl":"http://127.0.0.1:9880"}]',
      MODEL_ENDPOINT_NAME: 'log-anomaly',
      MODEL_ENDPOINT_URL: 'http://127.0.0.1:8082',
      FAULTS_ENABLED: '1',
    });
    assert.equal(env.PORT, 9000);
    assert.deepEqual(env.SERVICES, [
      { name: 'frontend', healthUrl: 'http://127.0.0.1:8080/healthz', sidecarUrl: 'http://127.0.0.1:9880' },
    ]);
    assert.equal(env.FAULTS_ENABLED, true);
  });

  test('bad values are all reported, by variable', () => {
    assert.deepEqual(
      issues({
        PORT: '80a',
        SERVICES: '[{"name":"Web"}]',
        FAULTS_ENABLED: 'yes',
        ANOMALY_SOURCE: 'cloudwatch',
      }),
      [
        'PORT: must be a whole number',
        'SERVICES.0.name: must be a lowercase DNS label (a-z, 0-9, -), at most 63 characters',
        'FAULTS_ENABLED: Invalid option: expected one of "0"|"1"|"true"|"false"',
      ],
    );
  });

  test('cloudwatch needs the anomaly log group; SERVICES must be JSON with unique names', () => {
    assert.deepEqual(issues({ ANOMALY_SOURCE: 'cloudwatch' }), [
      'ANOMALY_LOG_GROUP: is required when ANOMALY_SOURCE=cloudwatch',
    ]);
    assert.deepEqual(issues({ SERVICES: '[{' }), ['SERVICES: must be a JSON array of services']);
    assert.deepEqual(issues({ SERVICES: '[{"name":"a"},{"name":"a"}]' }), [
      'SERVICES: service names must be unique',
    ]);
    assert.deepEqual(issues({ SERVICES: '[{"name":"a","healthUrl":"file:///etc/passwd"}]' }), [
      'SERVICES.0.healthUrl: must be an http(s) URL',
    ]);
  });
});
