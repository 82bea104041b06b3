import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App, Image, type ImageRunOptions, Platform, WebService } from '../index.ts';

/**
 * Issue 21, item 4: a declared image says how it runs on the platform's hardened defaults (command,
 * entrypoint, user, a fixed port, writable paths), and a declaration that contradicts itself is one
 * line with the fix.
 */

function declare(run: ImageRunOptions, port = 5678) {
  const app = new App();
  const platform = new Platform(app, 'team', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  new WebService(platform, 'echo', {
    image: Image.fromRegistry('localhost/team/echo:1', run),
    port,
    anomaly: { enabled: false },
  });
  return app;
}

function refusal(run: ImageRunOptions, port?: number): string {
  try {
    declare(run, port);
  } catch (error) {
    return (error as Error).message;
  }
  return assert.fail('expected the declaration to be refused');
}

describe('how a declared image runs', () => {
  it('carries command, entrypoint, user, fixed port and writable paths into the manifest', () => {
    const manifest = declare({
      entrypoint: ['/bin/echo-server'],
      command: ['--listen', '5678'],
      user: '65534:65534',
      port: 5678,
      writablePaths: ['/tmp', '/var/cache/echo'],
    }).synth();
    assert.deepEqual(manifest.services[0]?.image, {
      kind: 'registry',
      uri: 'localhost/team/echo:1',
      run: {
        entrypoint: ['/bin/echo-server'],
        command: ['--listen', '5678'],
        user: '65534:65534',
        port: 5678,
        writablePaths: ['/tmp', '/var/cache/echo'],
      },
    });
  });

  it('leaves run out when nothing is declared (the image runs as it is)', () => {
    assert.deepEqual(declare({}).synth().services[0]?.image, {
      kind: 'registry',
      uri: 'localhost/team/echo:1',
    });
  });

  it("refuses a fixed port that is not the service's port, naming both", () => {
    assert.equal(
      refusal({ port: 5678 }, 8080),
      "team/echo: image port (5678) is the port the image listens on, but the service's port is 8080. Fix: set the service's port to 5678 (or drop the image's port if it reads PORT).",
    );
  });

  it('refuses root as the user (the platform runs containers as non-root)', () => {
    assert.equal(
      refusal({ user: 'root' }),
      "team/echo: image user ('root') is root, which the platform never runs. Fix: give a non-root uid[:gid] or user name, e.g. '1000:1000'.",
    );
    assert.match(refusal({ user: '0:0' }), /image user \('0:0'\) is root/);
  });

  it('refuses a writable path that is not absolute or is the root itself', () => {
    assert.equal(
      refusal({ writablePaths: ['tmp'] }),
      "team/echo: image writablePaths[0] ('tmp') must be an absolute path other than '/'. Fix: give e.g. '/tmp'; the root filesystem stays read-only.",
    );
    assert.match(refusal({ writablePaths: ['/'] }), /writablePaths\[0\] \('\/'\) must be an absolute path/);
  });

  it('refuses an empty command or entrypoint', () => {
    assert.equal(
      refusal({ command: [] }),
      "team/echo: image command ([]) must name a program or its arguments, none empty. Fix: give e.g. ['serve', '--port', '8080'], or leave it out to run the image's own.",
    );
  });
});
