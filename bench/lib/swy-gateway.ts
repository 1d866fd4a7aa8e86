/**
 * Benchmarks' handle on a real gateway: the end-to-end tests' harness (test/helpers/gateway.ts),
 * which writes a project where handlers can `import ... from 'switchyard'`, runs the BUILT CLI
 * (`npm run build` first) on free loopback ports in its own process group, and stops exactly
 * that group. Nothing else is ever signalled.
 */
import { rmSync } from 'node:fs';
import { startGateway, tempDir, type RunningGateway } from '../../test/helpers/gateway.ts';

export { ROOT, sleep } from '../../test/helpers/gateway.ts';

/** A temp directory holding `files` (relative path -> content) and a `node_modules/switchyard` link. */
export const writeProject = tempDir;

export function removeProject(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export type BenchGateway = RunningGateway & { readonly pid: number };

export async function startBenchGateway(specPath: string, options: { timeoutMs?: number; waitRunning?: boolean } = {}): Promise<BenchGateway> {
  // A profiler flag for replicas goes through the spec's `env`; the harness's clean environment
  // keeps NODE_OPTIONS away from the gateway itself.
  const gw = await startGateway(specPath, { timeoutMs: options.timeoutMs ?? 30_000, waitRunning: options.waitRunning ?? true });
  return Object.assign(gw, { pid: gw.child.pid! });
}
