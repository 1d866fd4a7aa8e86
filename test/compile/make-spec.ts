/**
 * Builds a defaulted Spec for compile tests without the loader (no YAML, no files needed): the
 * defaults are CONTRACT section 2's (Ray Serve's), written out so the tests state what they
 * rely on, and autoscaling is defaulted the way the loader's build-spec does it.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { autoscalingDefaults } from '../../src/spec/defaults.ts';
import type { ApplicationSpec, DeploymentSpec, Spec } from '../../src/spec/types.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What a test writes: any DeploymentSpec field, editable so cases can derive from a base. */
export type DeploymentInput = Mutable<Partial<DeploymentSpec>> & { name: string };
export interface AppInput {
  name: string;
  route_prefix?: string | null;
  ingress?: string;
  deployments: DeploymentInput[];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

/** A Spec with every default filled in; handlers default to `./<name>.ts`. */
export function makeSpec(baseDir: string, applications: AppInput[]): Spec {
  const apps: ApplicationSpec[] = applications.map((app) => ({
    name: app.name,
    route_prefix: app.route_prefix === undefined ? '/' : app.route_prefix,
    ingress: app.ingress ?? app.deployments[0]!.name,
    deployments: app.deployments.map(
      (d): DeploymentSpec => ({
        handler: `./${d.name}.ts`,
        bindings: {},
        // As the loader does: autoscaling_config alone means "auto", over the config defaults.
        num_replicas: d.autoscaling_config === undefined ? 1 : 'auto',
        max_ongoing_requests: 5,
        max_queued_requests: -1,
        health_check_period_s: 10,
        health_check_timeout_s: 30,
        graceful_shutdown_timeout_s: 20,
        env: {},
        ...d,
        ...(d.autoscaling_config === undefined
          ? {}
          : { autoscaling_config: { ...autoscalingDefaults(d.num_replicas), ...d.autoscaling_config } }),
      }),
    ),
  }));
  return deepFreeze({
    http_options: { host: '127.0.0.1', port: 8000, keep_alive_timeout_s: 5, max_body_bytes: 10485760 },
    admin: { host: '127.0.0.1', port: 8265 },
    applications: apps,
    base_dir: baseDir,
  });
}

/** A fresh temp directory holding `files` (relative path -> content). */
export function tempTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'swy-compile-'));
  writeTree(dir, files);
  return dir;
}

/** Writes (or overwrites) files under `dir`. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}
