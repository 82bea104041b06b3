import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerfile } from '../dockerfile.ts';

describe('parseDockerfile', () => {
  it("reads the final stage's command, environment, workdir and exposed ports", () => {
    const facts = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'FROM node:22 AS build',
        'CMD ["node", "build.js"]',
        'EXPOSE 9999',
        'FROM --platform=linux/arm64 python:3.11-slim',
        'ENV PYTHONUNBUFFERED=1 APP_HOME=/srv/app \\',
        '    GREETING="hello world"',
        'ENV LEGACY one value',
        'WORKDIR $APP_HOME',
        'WORKDIR api',
        'expose 8000/tcp 9000/udp',
        'CMD ["python3", "app.py"]',
      ].join('\n'),
    );
    assert.equal(facts.from, 'python:3.11-slim');
    assert.deepEqual(facts.command, ['python3', 'app.py']);
    assert.deepEqual(facts.env, {
      PYTHONUNBUFFERED: '1',
      APP_HOME: '/srv/app',
      GREETING: 'hello world',
      LEGACY: 'one value',
    });
    assert.equal(facts.workdir, '/srv/app/api');
    assert.deepEqual(facts.exposedPorts, [8000]);
  });

  it('combines ENTRYPOINT and CMD as Docker does, and runs the shell form through /bin/sh -c', () => {
    assert.deepEqual(
      parseDockerfile('FROM x\nENTRYPOINT ["uvicorn"]\nCMD ["app:app", "--port", "8000"]').command,
      ['uvicorn', 'app:app', '--port', '8000'],
    );
    assert.deepEqual(parseDockerfile('FROM x\nENTRYPOINT exec node server.js\nCMD ["ignored"]').command, [
      '/bin/sh',
      '-c',
      'exec node server.js',
    ]);
    assert.deepEqual(parseDockerfile('FROM x\nCMD node server.js').command, [
      '/bin/sh',
      '-c',
      'node server.js',
    ]);
    assert.deepEqual(parseDockerfile('FROM x\nRUN true').command, []);
  });
});
