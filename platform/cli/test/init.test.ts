import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT_CODES } from '../exit-codes.ts';
import { cliIn, type TeamRepository, teamRepository } from './team-repository.ts';

/** `init` in a team's repository: the declaration it writes synthesises a manifest unedited. */

const cli = cliIn;

const repositories: TeamRepository[] = [];
after(() => {
  for (const r of repositories) r.remove();
});

describe('init', () => {
  it("proposes the repository's Dockerfiles as services: web when a port is exposed, internal otherwise", async () => {
    const repo = teamRepository();
    repositories.push(repo);
    repo.write('storefront/Dockerfile', 'FROM python:3.11-slim\nEXPOSE 8000\nCMD ["python3", "app.py"]\n');
    repo.write('Dockerfile.orders', 'FROM node:22\nEXPOSE 3000/tcp\nCMD ["node", "server.mjs"]\n');
    repo.write('mailer/Dockerfile', 'FROM node:22\nCMD ["node", "mailer.mjs"]\n');
    repo.write('node_modules/dep/Dockerfile', 'FROM scratch\n'); // never a service of the team's
    const { code, out, err } = await cli(['init'], repo.root);
    assert.equal(code, EXIT_CODES.ok, err);
    assert.match(out, /init: internal service mailer from mailer\/Dockerfile, port 8080/);
    assert.match(out, /init: web service orders from Dockerfile\.orders, port 3000 at \/\*/);
    assert.match(
      out,
      /init: web service storefront from storefront\/Dockerfile, port 8000 at \/storefront\/\*/,
    );
    assert.match(out, /npx berth start/);
    assert.equal(readFileSync(join(repo.root, '.gitignore'), 'utf8'), '.local/\ncdk.out/\n');

    const manifest = await cli(['manifest'], repo.root);
    assert.equal(manifest.code, EXIT_CODES.ok, manifest.err);
    const { platform, model, services } = JSON.parse(manifest.out);
    assert.equal(platform.name, 'team');
    assert.equal(model.source, 'platform');
    assert.deepEqual(
      services.map((s: { name: string; kind: string; port: number; paths: string[]; image: unknown }) => [
        s.name,
        s.kind,
        s.port,
        s.paths,
        s.image,
      ]),
      [
        [
          'orders',
          'web',
          3000,
          ['/*'],
          { kind: 'dockerfile', dockerfile: 'Dockerfile.orders', context: '.', entry: null },
        ],
        [
          'mailer',
          'internal',
          8080,
          [],
          { kind: 'dockerfile', dockerfile: 'mailer/Dockerfile', context: 'mailer', entry: null },
        ],
        [
          'storefront',
          'web',
          8000,
          ['/storefront/*'],
          { kind: 'dockerfile', dockerfile: 'storefront/Dockerfile', context: 'storefront', entry: null },
        ],
      ],
    );

    const again = await cli(['init'], repo.root);
    assert.equal(again.code, EXIT_CODES.usage);
    assert.equal(
      again.err,
      'init: config/declaration.ts exists already. Fix: edit it, or run init --force to replace it with a fresh proposal.',
    );
  });

  it('writes a minimal example service when the repository has no Dockerfile', async () => {
    const repo = teamRepository();
    repositories.push(repo);
    const { code, out, err } = await cli(['init'], repo.root);
    assert.equal(code, EXIT_CODES.ok, err);
    assert.ok(existsSync(join(repo.root, 'web/Dockerfile')));
    assert.ok(existsSync(join(repo.root, 'web/server.mjs')));
    assert.match(out, /init: web service web from web\/Dockerfile, port 3000 at \/\*/);
    const manifest = await cli(['manifest'], repo.root);
    assert.equal(manifest.code, EXIT_CODES.ok, manifest.err);
  });
});
