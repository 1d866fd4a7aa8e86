/**
 * Drift: handler files edited on disk after the Plan was compiled, before any apply. A replica
 * started then (a crash replacement, a scale-up) loads the edited code; rather than run it
 * under the old version label, the Controller labels it with the version of what is on disk
 * and says so in status. Applying the spec again rolls every replica onto one version.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { MISSING } from './code-graph.ts';
import type { DeploymentPlan } from './types.ts';
import { codeVersion, shortHash } from './versions.ts';

export interface CodeDrift {
  /** The code version of the files as they are now. */
  readonly version: string;
  /** Changed files, relative to the handler's directory's parent when possible. */
  readonly changed: readonly string[];
}

/** Re-hashes the deployment's code files; undefined when they are as compiled. */
export function codeDrift(plan: DeploymentPlan, baseDir: string): CodeDrift | undefined {
  const hashes: Record<string, string> = {};
  const changed: string[] = [];
  for (const [file, compiled] of Object.entries(plan.code_hashes)) {
    let now: string;
    try {
      now = shortHash(readFileSync(file));
    } catch {
      now = MISSING;
    }
    hashes[file] = now;
    if (now !== compiled) changed.push(relative(baseDir, file) || file);
  }
  if (changed.length === 0) return undefined;
  return {
    version: codeVersion({ handler_path: plan.handler_path, export_name: plan.export_name, code_hashes: hashes, args: plan.args, bindings: plan.bindings, env: plan.env }),
    changed,
  };
}
