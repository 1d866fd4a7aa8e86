/**
 * The code graph of a deployment: its handler file and every local module it imports,
 * transitively. Their contents go into the code version, so editing a helper the handler
 * imports is a rolling restart, while anything under node_modules (pinned by the lockfile) is not
 * hashed.
 *
 * Resolution follows what a TypeScript user writes and what tsx loads: relative (`./x`, `../x`),
 * absolute (`/x`) and `file:` specifiers; extensionless specifiers and directories with an
 * `index` file; and `./x.js` naming `./x.ts` (also `.mjs` -> `.mts`, `.cjs` -> `.cts`, `.jsx` ->
 * `.tsx`). Bare specifiers, `node:` builtins and node_modules paths are skipped. tsconfig `paths`
 * aliases and package `imports` (`#x`) are not followed.
 */
import { dirname, extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanImports } from './import-scanner.ts';
import { kindThrough, readThrough, type IoTask, type ResolvedImport, type SourceCache, type SourceInfo } from './source-cache.ts';
import { shortHash } from './versions.ts';

/** The value recorded for a local import that resolves to no file (so creating it changes the version). */
export const MISSING = 'missing';

/** Files whose imports are followed; anything else local (JSON, WASM, text) is hashed only. */
const SCRIPT_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.jsx', '.ts', '.mts', '.cts', '.tsx']);

/**
 * Extensions tried for an extensionless specifier and for `index` files, TypeScript's order
 * (`.ts` before `.js`): when both exist, the TypeScript source is what tsx loads.
 */
const TRY_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs', '.json'];

/** `./x.js` may name `./x.ts`: TypeScript's convention for ESM imports written for the output. */
const JS_TO_TS: Readonly<Record<string, readonly string[]>> = {
  '.js': ['.ts', '.tsx'],
  '.jsx': ['.tsx'],
  '.mjs': ['.mts'],
  '.cjs': ['.cts'],
};

/** The handler file and its local imports, with a content hash per file. */
export interface CodeGraph {
  /** Absolute path -> content hash, or `missing` for a local import that resolves to no file. */
  readonly hashes: Readonly<Record<string, string>>;
  /** Absolute paths of the files that exist, sorted. */
  readonly files: readonly string[];
}

function isInNodeModules(path: string): boolean {
  return path.includes(`${sep}node_modules${sep}`);
}

/**
 * Turns a specifier into the absolute path it names before extension probing, or undefined for
 * specifiers that are not local files (bare packages, builtins, URLs other than `file:`).
 */
export function localTarget(fromFile: string, specifier: string): string | undefined {
  if (specifier.startsWith('file:')) {
    try {
      return fileURLToPath(specifier);
    } catch {
      return undefined;
    }
  }
  const local =
    specifier === '.' || specifier === '..' || specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/');
  if (!local) return undefined;
  // ESM allows a query or fragment on a file specifier (cache busting); the file is the same.
  const cut = specifier.search(/[?#]/);
  const bare = cut < 0 ? specifier : specifier.slice(0, cut);
  return resolve(dirname(fromFile), bare);
}

/** Resolves a local specifier to a file, probing like TypeScript and tsx do; undefined when none. */
export function* resolveLocal(target: string, cache: SourceCache): IoTask<string | undefined> {
  const kind = yield* kindThrough(target, cache);
  if (kind === 'file') return target;
  const ext = extname(target);
  const swaps = JS_TO_TS[ext];
  if (swaps !== undefined) {
    const stem = target.slice(0, -ext.length);
    for (const swap of swaps) {
      if ((yield* kindThrough(stem + swap, cache)) === 'file') return stem + swap;
    }
  }
  for (const tryExt of TRY_EXTENSIONS) {
    if ((yield* kindThrough(target + tryExt, cache)) === 'file') return target + tryExt;
  }
  if (kind === 'dir') {
    for (const tryExt of TRY_EXTENSIONS) {
      const index = resolve(target, `index${tryExt}`);
      if ((yield* kindThrough(index, cache)) === 'file') return index;
    }
  }
  return undefined;
}

/** Reads, hashes and scans one file, once per compile. */
function* sourceInfo(path: string, cache: SourceCache): IoTask<SourceInfo> {
  const known = cache.sources.get(path);
  if (known !== undefined) return known;
  const bytes = yield* readThrough(path, cache);
  const ext = extname(path);
  const scriptLike = SCRIPT_EXTENSIONS.has(ext) || ext === '';
  const info: SourceInfo =
    bytes === undefined
      ? { hash: undefined, specifiers: [] }
      : { hash: shortHash(bytes), specifiers: scriptLike ? scanImports(bytes.toString('utf8')) : [] };
  cache.sources.set(path, info);
  return info;
}

/** The resolved local imports of one file, once per compile. */
function* importsOf(path: string, specifiers: readonly string[], cache: SourceCache): IoTask<readonly ResolvedImport[]> {
  const known = cache.edges.get(path);
  if (known !== undefined) return known;
  const out: ResolvedImport[] = [];
  for (const specifier of specifiers) {
    const target = localTarget(path, specifier);
    if (target === undefined || isInNodeModules(target)) continue;
    const file = yield* resolveLocal(target, cache);
    if (file === undefined) out.push({ path: target, missing: true });
    else if (!isInNodeModules(file)) out.push({ path: file, missing: false });
  }
  cache.edges.set(path, out);
  return out;
}

/**
 * Walks the handler file and its local imports (cycles are fine: each file is visited once).
 * The handler itself is always hashed, even from node_modules, since the spec names it.
 */
export function* codeGraph(handlerPath: string, cache: SourceCache): IoTask<CodeGraph> {
  const hashes: Record<string, string> = {};
  const pending = [handlerPath];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (file in hashes) continue;
    const info = yield* sourceInfo(file, cache);
    if (info.hash === undefined) {
      hashes[file] = MISSING;
      continue;
    }
    hashes[file] = info.hash;
    for (const dep of yield* importsOf(file, info.specifiers, cache)) {
      if (dep.missing) hashes[dep.path] ??= MISSING;
      else if (!(dep.path in hashes)) pending.push(dep.path);
    }
  }
  const sorted: Record<string, string> = {};
  const files: string[] = [];
  for (const path of Object.keys(hashes).sort()) {
    sorted[path] = hashes[path]!;
    if (hashes[path] !== MISSING) files.push(path);
  }
  return { hashes: sorted, files };
}
