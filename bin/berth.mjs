#!/usr/bin/env node
/**
 * The `berth` command as npm installs it: the package ships TypeScript sources, so this shim registers
 * tsx's loader (a dependency of the package) before it loads the CLI's entry. Every npm script of this
 * repository that renders the platform calls it too, so the repository runs the CLI a team installs.
 */
import { register } from 'tsx/esm/api';

register();
await import('../platform/cli/main.ts');
