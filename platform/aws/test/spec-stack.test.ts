import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { App } from 'aws-cdk-lib';
import { checkTemplate, formatSpecFindings, loadResourceSpec } from '../spec-check.ts';
import { synthPlatform } from './builder.ts';

/**
 * Every template this repository's declaration synthesises, checked against the CloudFormation
 * resource specification: what CloudFormation would reject on deploy fails here.
 */
describe('the synthesised templates against the CloudFormation resource specification', () => {
  const platform = synthPlatform();
  after(() => platform.dispose());

  it('every stack of the app has zero findings', async () => {
    const spec = await loadResourceSpec();
    // The app's assembly holds every stack (synthPlatform already synthesised it; this is cached).
    const assembly = (platform.stack.node.root as App).synth();
    assert.ok(assembly.stacks.length >= 1);
    for (const stack of assembly.stacks) {
      const resources = Object.keys((stack.template as { Resources?: object }).Resources ?? {});
      assert.ok(resources.length > 0, `${stack.stackName} has resources`);
      assert.equal(formatSpecFindings(checkTemplate(stack.template, spec)), '', stack.stackName);
    }
  });

  it('catches an override planted in the real template', async () => {
    const spec = await loadResourceSpec();
    // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
    const template = structuredClone(platform.template.toJSON()) as { Resources: Record<string, any> };
    const [taskId, task] = Object.entries(template.Resources).find(
      ([, r]) => r.Type === 'AWS::ECS::TaskDefinition',
    )!;
    // What `addPropertyOverride('ContainerDefinitions.0.Secret', …)` with a misspelt key would render.
    task.Properties.ContainerDefinitions[0].Secret = [];
    assert.equal(
      formatSpecFindings(checkTemplate(template, spec)),
      `${taskId} (Properties.ContainerDefinitions.0.Secret): unknown property 'Secret' of ContainerDefinition`,
    );
  });
});
