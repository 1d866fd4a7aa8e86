/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per area
 * (Switchyard's code, undici, Node's http/net/streams internals, GC, idle), to say where a
 * process spends its time without opening a profiler UI.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileSummary {
  readonly totalSamples: number;
  /** [label, share of non-idle samples] sorted by share. */
  readonly functions: ReadonlyArray<readonly [string, number]>;
  readonly areas: ReadonlyArray<readonly [string, number]>;
  /** Share of all samples spent idle. */
  readonly idle: number;
}

/**
 * `window` keeps only the samples taken within [fromMs, toMs] after the profile started (the
 * load phase, without startup and shutdown).
 */
export function summariseProfile(path: string, top = 25, window?: { fromMs: number; toMs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<number, number>();
  let t = 0;
  let kept = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (window && (t / 1000 < window.fromMs || t / 1000 > window.toMs)) continue;
    const id = profile.samples[i]!;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    kept++;
  }
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, n] of counts) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += n;
      continue;
    }
    busy += n;
    const file = url.replace(/^.*\/(node_modules\/)?/, '');
    const label = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    fn.set(label, (fn.get(label) ?? 0) + n);
    area.set(areaOf(functionName, url), (area.get(areaOf(functionName, url)) ?? 0) + n);
  }
  const share = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / busy] as const);
  return { totalSamples: kept, functions: share(fn).slice(0, top), areas: share(area), idle: idle / kept };
}

function areaOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url.includes('/undici/')) return 'undici (proxy -> replica client)';
  if (url.includes('/dist/') || url.includes('/src/')) return 'switchyard';
  if (url.startsWith('node:internal/http') || url.startsWith('node:_http') || url === 'node:http') return 'node:http server';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'node streams';
  if (url.startsWith('node:net') || url.startsWith('node:internal/stream_base') || url.includes('net')) return 'node net / sockets';
  if (url.startsWith('node:')) return 'other node internals';
  if (url === '') return 'native / builtins';
  return 'other';
}
