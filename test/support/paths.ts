// Locates the project root from a bundled test file (bundles live under out/, sources do not).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let root: string | undefined;

/** The folder holding the project's package.json. */
export function projectRoot(): string {
  if (root) return root;
  let d = __dirname;
  while (!existsSync(join(d, 'package.json')) || existsSync(join(d, '..', 'package.json')) && d.endsWith('out')) {
    const up = dirname(d);
    if (up === d) throw new Error('project root not found');
    d = up;
  }
  root = d;
  return d;
}

/** Path of a file in the project, from the root. */
export function fromRoot(...parts: string[]): string {
  return join(projectRoot(), ...parts);
}
