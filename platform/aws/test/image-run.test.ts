import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { declarePlatform } from '../../../config/declaration.ts';
import { Image, type Platform, WebService } from '../../../config/index.ts';
import { synthPlatform } from './builder.ts';

/**
 * Issue 21, item 4: a registry image declared with how it runs (entrypoint, command, user, its fixed
 * port, writable paths) runs on ECS with the platform's hardened defaults: the read-only root stays,
 * each writable path is a tmpfs (`linuxParameters.tmpfs`, EC2 launch type), the declared user replaces
 * the default non-root one.
 */

interface ContainerJson {
  Name: string;
  User?: string;
  EntryPoint?: string[];
  Command?: string[];
  ReadonlyRootFilesystem?: boolean;
  PortMappings?: { ContainerPort: number }[];
  LinuxParameters?: { Tmpfs?: { ContainerPath: string; Size: number; MountOptions: string[] }[] };
}

function withEcho() {
  const app = declarePlatform();
  const platform = app.node.findChild('acme') as Platform;
  new WebService(platform, 'echo', {
    image: Image.fromRegistry('ghcr.io/team/echo@sha256:0123456789abcdef', {
      entrypoint: ['/usr/bin/echo-server'],
      command: ['--quiet'],
      user: '65534:65534',
      port: 5678,
      writablePaths: ['/tmp', '/var/cache/echo'],
    }),
    port: 5678,
    paths: ['/echo/*'],
  });
  return app.synth();
}

describe('a declared registry image on ECS', () => {
  const platform = synthPlatform({ manifest: withEcho() });
  after(() => platform.dispose());
  const appOf = (family: string): ContainerJson => {
    const entry = Object.values(platform.template.findResources('AWS::ECS::TaskDefinition')).find(
      (t) => t.Properties.Family === family,
    );
    assert.ok(entry, `no task definition ${family}`);
    const app = (entry.Properties.ContainerDefinitions as ContainerJson[]).find((c) => c.Name === 'app');
    assert.ok(app, `no app container in ${family}`);
    return app;
  };

  it('renders its entrypoint, command, user and port, the root filesystem read-only', () => {
    const app = appOf('acme-echo');
    assert.deepEqual(app.EntryPoint, ['/usr/bin/echo-server']);
    assert.deepEqual(app.Command, ['--quiet']);
    assert.equal(app.User, '65534:65534');
    assert.equal(app.ReadonlyRootFilesystem, true);
    assert.deepEqual(
      app.PortMappings?.map((p) => p.ContainerPort),
      [5678],
    );
  });

  it('mounts each writable path as a bounded tmpfs, no setuid files or devices', () => {
    assert.deepEqual(appOf('acme-echo').LinuxParameters?.Tmpfs, [
      { ContainerPath: '/tmp', Size: 64, MountOptions: ['nosuid', 'nodev'] },
      { ContainerPath: '/var/cache/echo', Size: 64, MountOptions: ['nosuid', 'nodev'] },
    ]);
  });

  it("keeps the platform's defaults for an image that declares nothing", () => {
    const backend = appOf('acme-backend');
    assert.equal(backend.User, '1000:1000');
    assert.equal(backend.EntryPoint, undefined);
    assert.equal(backend.LinuxParameters, undefined);
    assert.equal(backend.ReadonlyRootFilesystem, true);
  });
});
