import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { declarePlatform } from '../../../config/declaration.ts';
import type { Manifest } from '../../../config/index.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { createPlatformApp } from '../app.ts';
import { checkTemplate, formatSpecFindings, loadResourceSpecSync } from '../spec-check.ts';
import type { BootstrapStack } from '../stacks/bootstrap-stack.ts';
import type { PlatformStack } from '../stacks/platform-stack.ts';

/** This repository's own manifest (the real declaration), optionally adjusted by `change`. */
export function manifestFixture(change?: (manifest: Manifest) => void): Manifest {
  const manifest = structuredClone(declarePlatform().synth());
  change?.(manifest);
  return manifest;
}

/** A synthesised platform app and its template, with a disposable cloud-assembly directory. */
export interface SynthesisedPlatform {
  readonly stack: PlatformStack;
  readonly template: Template;
  /** The bootstrap stack (repositories, release records, delivery roles). */
  readonly bootstrapTemplate: Template;
  readonly bootstrapStack: BootstrapStack;
  readonly outdir: string;
  dispose(): void;
}

/**
 * GIVEN a manifest (default: the real declaration) WHEN it is rendered THEN this is what tests assert
 * on. Policy validation is off unless asked for: the gate has its own test, construct tests stay fast.
 * Every template rendered here is checked against the CloudFormation resource specification first, so
 * each fixture manifest of every test is, too.
 */
export function synthPlatform(
  options: { manifest?: Manifest; validate?: boolean } = {},
): SynthesisedPlatform {
  const outdir = mkdtempSync(join(tmpdir(), 'platform-aws-test-'));
  const { stack, bootstrapStack } = createPlatformApp({
    wiring: wirePlatform(options.manifest ?? manifestFixture()),
    outdir,
    env: { region: 'us-east-1' },
    validate: options.validate ?? false,
    // In-memory mode: a failing gate throws with the full report instead of printing it.
    context: { '@aws-cdk/core:appMode': 'inmemory' },
  });
  const template = Template.fromStack(stack);
  const bootstrapTemplate = Template.fromStack(bootstrapStack);
  for (const rendered of [template, bootstrapTemplate]) {
    const findings = checkTemplate(rendered.toJSON(), loadResourceSpecSync());
    if (findings.length > 0) {
      throw new Error(
        `the template does not match the CloudFormation specification:\n${formatSpecFindings(findings)}`,
      );
    }
  }
  return {
    stack,
    template,
    bootstrapTemplate,
    bootstrapStack,
    outdir,
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The logical id of the only resource of `type` matching `props`; fails when there are 0 or several. */
export function logicalIdOf(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const ids = Object.keys(template.findResources(type, props));
  if (ids.length !== 1)
    throw new Error(`expected one ${type} matching ${JSON.stringify(props)}, found ${ids.length}`);
  return ids[0]!;
}

/** Flattens an `Fn::Base64`/`Fn::Join` user-data value into its literal text (tokens as `<ref>`). */
export function userDataText(value: unknown): string {
  const inner = (value as { 'Fn::Base64'?: unknown })['Fn::Base64'] ?? value;
  if (typeof inner === 'string') return inner;
  const join = (inner as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`unexpected user data shape: ${JSON.stringify(value)}`);
  return join[1].map((part) => (typeof part === 'string' ? part : '<ref>')).join(join[0]);
}
