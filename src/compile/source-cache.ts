/**
 * File access for one compile, as requests a generator yields, so one walker serves both the
 * async compile (the gateway's event loop must not block on a large spec) and the sync one
 * (the CLI and tests), and every file is read and stat'ed at most once per compile however
 * many deployments share it.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

/** One file-system question a walker asks. */
export type IoRequest =
  | { readonly op: 'read'; readonly path: string }
  | { readonly op: 'stat'; readonly path: string };

/** `read` answers with the bytes or undefined; `stat` with 'file', 'dir' or undefined. */
export type IoResponse = Buffer | 'file' | 'dir' | undefined;

/** A computation that asks for file access by yielding; run it with `runSync` or `runAsync`. */
export type IoTask<T> = Generator<IoRequest, T, IoResponse>;

/** What the code graph keeps per file: computed once per compile. */
export interface SourceInfo {
  /** Content hash; undefined when the file could not be read. */
  readonly hash: string | undefined;
  /** Module specifiers found in the file (empty for non-script files). */
  readonly specifiers: readonly string[];
}

/**
 * Per-compile memo of file reads, stats, per-file scan results and resolved imports.
 * Create one per compile: reusing it across compiles would hide edits made in between.
 */
export class SourceCache {
  readonly sources = new Map<string, SourceInfo>();
  readonly kinds = new Map<string, 'file' | 'dir' | undefined>();
  /** file -> its resolved local imports (absolute path, or the unresolved target). */
  readonly edges = new Map<string, readonly ResolvedImport[]>();
  /** Bytes read ahead of the walk (`prefetch`); each is handed out once, then cached as SourceInfo. */
  readonly prefetched = new Map<string, Buffer | undefined>();
  /** How many files were read from disk; tests use it to prove the one-read-per-file rule. */
  reads = 0;
}

/** Concurrent reads in `prefetch`: enough to keep libuv's 4 threads busy, not a file-handle burst. */
const PREFETCH_CONCURRENCY = 16;

/**
 * Reads files in parallel before a walk that will need them (the handler files): the walk itself
 * asks for one file at a time, and one awaited read after another is what made the async compile
 * slower than the sync one.
 */
export async function prefetch(paths: Iterable<string>, cache: SourceCache): Promise<void> {
  const todo = [...new Set(paths)].filter((p) => !cache.prefetched.has(p) && !cache.sources.has(p));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const path = todo[next++]!;
      cache.reads++;
      cache.prefetched.set(path, (await performAsync({ op: 'read', path })) as Buffer | undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PREFETCH_CONCURRENCY, todo.length) }, worker));
}

/** A local import after resolution. */
export interface ResolvedImport {
  /** Absolute path of the file, or of the unresolved target when `missing`. */
  readonly path: string;
  readonly missing: boolean;
}

function kindOf(isFile: boolean, isDir: boolean): 'file' | 'dir' | undefined {
  return isFile ? 'file' : isDir ? 'dir' : undefined;
}

function performSync(req: IoRequest): IoResponse {
  try {
    if (req.op === 'read') return readFileSync(req.path);
    const s = statSync(req.path, { throwIfNoEntry: false });
    return s === undefined ? undefined : kindOf(s.isFile(), s.isDirectory());
  } catch {
    // Unreadable or vanished between stat and read: treated as missing, never a crash.
    return undefined;
  }
}

async function performAsync(req: IoRequest): Promise<IoResponse> {
  try {
    if (req.op === 'read') return await readFile(req.path);
    const s = await stat(req.path);
    return kindOf(s.isFile(), s.isDirectory());
  } catch {
    return undefined;
  }
}

/** Runs a task with blocking file access. */
export function runSync<T>(task: IoTask<T>): T {
  let step = task.next();
  while (!step.done) step = task.next(performSync(step.value));
  return step.value;
}

/** Runs a task with non-blocking file access. */
export async function runAsync<T>(task: IoTask<T>): Promise<T> {
  let step = task.next();
  while (!step.done) step = task.next(await performAsync(step.value));
  return step.value;
}

/** Reads a file through the task's driver; undefined when it cannot be read. */
export function* readThrough(path: string, cache: SourceCache): IoTask<Buffer | undefined> {
  if (cache.prefetched.has(path)) {
    const bytes = cache.prefetched.get(path);
    cache.prefetched.delete(path);
    return bytes;
  }
  cache.reads++;
  return (yield { op: 'read', path }) as Buffer | undefined;
}

/** Stats a path through the task's driver, at most once per compile. */
export function* kindThrough(path: string, cache: SourceCache): IoTask<'file' | 'dir' | undefined> {
  if (cache.kinds.has(path)) return cache.kinds.get(path);
  const kind = (yield { op: 'stat', path }) as 'file' | 'dir' | undefined;
  cache.kinds.set(path, kind);
  return kind;
}
