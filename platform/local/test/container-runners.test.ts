import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App, Image, type ImageRunOptions, Platform, WebService } from '../../../config/index.ts';
import { wirePlatform } from '../../wiring/index.ts';
import {
  buildahLaunch,
  CONTAINER_LAUNCHER,
  type ContainerRequest,
  containerProcess,
  engineLaunch,
  type ImageConfig,
  type Machine,
} from '../container-runners.ts';
import { planLocalRun } from '../plan.ts';
import { chooseRunner } from '../runners.ts';

/**
 * Issue 21, item 3 (b) and (c): which runner a service gets on which machine, and the command lines
 * that run its image — on an engine (`docker run`/`podman run`, only where one answers) or with
 * buildah — each with the wiring's variables by name, the declared user, entrypoint, command and
 * writable paths, and the image's own command when nothing is declared.
 */

const ECHO_CONFIG: ImageConfig = {
  entrypoint: ['/usr/local/bin/node'],
  cmd: ['/srv/echo.mjs'],
  workdir: '/srv',
};

/** A machine that answers as told: its engine, whether buildah works, what its storage holds. */
function machine(options: {
  engine?: 'docker' | 'podman';
  buildah?: boolean;
  images?: Record<string, ImageConfig>;
}): Machine {
  return {
    engine: () => options.engine,
    buildah: () => options.buildah ?? false,
    localImage: (reference) => (options.buildah ? options.images?.[reference] : undefined),
  };
}

function echoTask(image: Image, port = 5678) {
  const app = new App();
  const platform = new Platform(app, 'team', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  new WebService(platform, 'echo', { image, port, anomaly: { enabled: false } });
  return wirePlatform(app.synth());
}

const registry = (run: ImageRunOptions = {}) => Image.fromRegistry('localhost/team/echo:1', run);

describe('the runner of an image', () => {
  it('runs a registry image with buildah where no engine answers and the image is in local storage', () => {
    const wiring = echoTask(registry());
    const choice = chooseRunner(wiring.tasks[0]!, {
      root: '/r',
      platform: 'team',
      machine: machine({ buildah: true, images: { 'localhost/team/echo:1': ECHO_CONFIG } }),
    });
    assert.equal(choice.run.kind, 'image');
    assert.equal(
      choice.description,
      'the image localhost/team/echo:1 on buildah (no Docker or Podman engine answers here): buildah run --isolation chroot, its command /usr/local/bin/node /srv/echo.mjs',
    );
  });

  it('prefers an engine that answers, for a registry image and a Dockerfile one alike', () => {
    const onDocker = machine({
      engine: 'docker',
      buildah: true,
      images: { 'localhost/team/echo:1': ECHO_CONFIG },
    });
    const wiring = echoTask(registry());
    assert.equal(
      chooseRunner(wiring.tasks[0]!, { root: '/r', platform: 'team', machine: onDocker }).description,
      'the image localhost/team/echo:1 on Docker: docker run --network host --read-only',
    );
    const built = echoTask(Image.fromDockerfile('echo/Dockerfile'));
    const choice = chooseRunner(built.tasks[0]!, {
      root: '/r',
      platform: 'team',
      machine: machine({ engine: 'podman' }),
      readDockerfile: () => 'FROM python:3.11-slim\nCMD ["python3", "app.py"]\n',
    });
    assert.equal(choice.run.kind, 'image');
    assert.match(choice.description, /as localhost\/team\/echo:local on Podman: podman run/);
  });

  it('builds a Dockerfile image with buildah when every base image is in local storage', () => {
    const built = echoTask(Image.fromDockerfile('echo/Dockerfile'));
    const choice = chooseRunner(built.tasks[0]!, {
      root: '/r',
      platform: 'team',
      machine: machine({ buildah: true, images: { 'node:24-bookworm-slim': ECHO_CONFIG } }),
      readDockerfile: () =>
        'FROM node:24-bookworm-slim AS build\nRUN true\nFROM build\nWORKDIR /app\nCMD ["node", "server.mjs"]\n',
    });
    assert.ok(choice.run.kind === 'image');
    assert.deepEqual(choice.run.image.build, { dockerfile: '/r/echo/Dockerfile', context: '/r/echo' });
    assert.deepEqual(choice.run.image.config, {
      entrypoint: [],
      cmd: ['node', 'server.mjs'],
      workdir: '/app',
    });
  });

  it("falls back to the Dockerfile's command on the host when its base cannot be had, saying why", () => {
    const built = echoTask(Image.fromDockerfile('echo/Dockerfile'));
    const choice = chooseRunner(built.tasks[0]!, {
      root: '/r',
      platform: 'team',
      machine: machine({ buildah: true, images: {} }),
      readDockerfile: () => 'FROM python:3.11-slim\nWORKDIR /app\nCMD ["python3", "/app/app.py"]\n',
    });
    assert.deepEqual(choice.run, {
      kind: 'command',
      program: 'python3',
      args: ['/r/echo/app.py'],
      cwd: '/r/echo',
    });
    assert.equal(
      choice.description,
      "the Dockerfile's own command on the host, in its build context echo/: python3 /app/app.py (its base image python:3.11-slim is not in local storage and no registry is reachable; no Docker or Podman engine answers here)",
    );
  });

  it('refuses a registry image it cannot have, one line with the fix', () => {
    const wiring = echoTask(registry());
    assert.throws(
      () => chooseRunner(wiring.tasks[0]!, { root: '/r', platform: 'team', machine: machine({}) }),
      {
        name: 'RunnerError',
        message:
          "team/echo: image localhost/team/echo:1 is not in buildah's local storage and no Docker or Podman engine answers here, so start cannot run it (no registry is reachable to pull it). Fix: pull or build it into local storage (buildah pull localhost/team/echo:1, or buildah bud -t localhost/team/echo:1 .), or declare local: { command: [...] } for the service.",
      },
    );
  });

  it('honours a fixed port: the app listens where the image does, PORT says so', () => {
    const wiring = echoTask(registry({ port: 5678 }));
    const plan = planLocalRun(wiring, {
      root: '/r',
      modelPort: 1,
      internalPorts: [2, 3, 4, 5, 6],
      machine: machine({ buildah: true, images: { 'localhost/team/echo:1': ECHO_CONFIG } }),
    });
    const echo = plan.processes.find((p) => p.label === 'echo');
    assert.equal(echo?.port, 5678);
    assert.equal(echo?.env.PORT, '5678');
    assert.ok(echo?.image);
  });
});

describe('the command lines that run an image', () => {
  const request: ContainerRequest = {
    name: 'berth-team-echo',
    image: 'localhost/team/echo:1',
    container: {
      user: '65534:65534',
      entryPoint: ['/bin/echo-server', '--json'],
      command: ['--quiet'],
      tmpfs: [{ path: '/scratch', sizeMiB: 64 }],
    },
    variables: ['PORT', 'ECHO_TOKEN'],
  };

  it('docker: host network, read-only root, the user, tmpfs, variables by name, the declared entrypoint', () => {
    assert.deepEqual(engineLaunch('docker', request), {
      cleanup: [['docker', 'rm', '--force', 'berth-team-echo']],
      prepare: [],
      run: [
        'docker',
        'run',
        '--rm',
        '--name',
        'berth-team-echo',
        '--network',
        'host',
        '--read-only',
        '--user',
        '65534:65534',
        '--tmpfs',
        '/scratch:rw,nosuid,nodev,size=64m',
        '--env',
        'PORT',
        '--env',
        'ECHO_TOKEN',
        '--entrypoint',
        '/bin/echo-server',
        'localhost/team/echo:1',
        '--json',
        '--quiet',
      ],
    });
  });

  it('podman builds a Dockerfile image first, then runs the same way', () => {
    const launch = engineLaunch('podman', {
      ...request,
      build: { dockerfile: '/r/echo/Dockerfile', context: '/r/echo' },
    });
    assert.deepEqual(launch.prepare, [
      ['podman', 'build', '-f', '/r/echo/Dockerfile', '-t', 'localhost/team/echo:1', '/r/echo'],
    ]);
    assert.equal(launch.run[0], 'podman');
  });

  it("buildah: a working container, its variables set off the run's command line, the image's own command", () => {
    const launch = buildahLaunch(
      { ...request, container: { user: '1000:1000', tmpfs: [{ path: '/scratch', sizeMiB: 64 }] } },
      ECHO_CONFIG,
    );
    assert.deepEqual(launch, {
      cleanup: [['buildah', 'rm', 'berth-team-echo']],
      prepare: [
        ['buildah', 'from', '--pull=never', '--quiet', '--name', 'berth-team-echo', 'localhost/team/echo:1'],
        [
          'buildah',
          'config',
          { flag: '--env', env: 'PORT' },
          { flag: '--env', env: 'ECHO_TOKEN' },
          'berth-team-echo',
        ],
      ],
      run: [
        'buildah',
        'run',
        '--isolation',
        'chroot',
        '--user',
        '1000:1000',
        '--workingdir',
        '/srv',
        '--mount',
        'type=tmpfs,destination=/scratch,tmpfs-size=64m',
        'berth-team-echo',
        '--',
        '/usr/local/bin/node',
        '/srv/echo.mjs',
      ],
    });
  });

  it("buildah: a declared entrypoint drops the image's CMD, a declared command replaces it", () => {
    assert.deepEqual(buildahLaunch(request, ECHO_CONFIG).run.slice(-4), [
      '--',
      '/bin/echo-server',
      '--json',
      '--quiet',
    ]);
    const commandOnly = buildahLaunch(
      { ...request, container: { user: null, command: ['/srv/other.mjs'] } },
      ECHO_CONFIG,
    );
    assert.deepEqual(commandOnly.run.slice(-3), ['--', '/usr/local/bin/node', '/srv/other.mjs']);
  });

  it("names each revision's container after its label and passes the local AWS settings too", () => {
    const { program, args } = containerProcess(
      {
        runner: 'buildah',
        namePrefix: 'berth-team',
        image: 'localhost/team/echo:1',
        container: { user: null },
        config: ECHO_CONFIG,
      },
      'echo@2',
      ['PORT'],
    );
    assert.equal(program, process.execPath);
    assert.equal(args[0], CONTAINER_LAUNCHER);
    const launch = JSON.parse(args[1]!) as { cleanup: string[][]; prepare: unknown[][] };
    assert.deepEqual(launch.cleanup, [['buildah', 'rm', 'berth-team-echo-2']]);
    assert.deepEqual(
      (launch.prepare[1] as { env?: string }[]).flatMap((a) => (typeof a === 'object' ? [a.env] : [])),
      [
        'PORT',
        'AWS_REGION',
        'AWS_DEFAULT_REGION',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_EC2_METADATA_DISABLED',
      ],
    );
  });
});
