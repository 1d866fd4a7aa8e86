/**
 * Loading a spec: text -> YAML with positions -> schema check (defaults filled) -> semantic
 * checks -> frozen Spec. Every problem is collected and returned at once, in source order, so a
 * user fixes a spec in one round rather than one error per run.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { buildSpec } from './build-spec.ts';
import { parseYaml } from './parse-yaml.ts';
import { checkSchema } from './schema-check.ts';
import { checkSemantics } from './semantic-check.ts';
import type { LoadResult, SpecProblem } from './types.ts';

export interface LoadTextOptions {
  /** Shown in problems: the file as the user named it, or `<request>` for an admin API body. */
  readonly file: string;
  /** Directory relative handler paths resolve against (made absolute here). */
  readonly baseDir: string;
}

/** Validates spec text (YAML or JSON) and returns the frozen Spec or every problem found. */
export function loadSpecText(text: string, opts: LoadTextOptions): LoadResult {
  const { file } = opts;
  const baseDir = resolve(opts.baseDir);
  const parsed = parseYaml(text, file);
  if (!parsed.ok) return fail(parsed.problems);

  const { value, sourceMap } = parsed;
  if (value === null || value === undefined) {
    return fail([{ file, line: 1, col: 1, path: '', message: 'the spec is empty; it needs at least an "applications:" list' }]);
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    const found = Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    return fail([{ file, ...sourceMap.locate([], 'value'), path: '', message: `the spec must be a mapping with an "applications:" list (found ${found})` }]);
  }

  const schemaProblems = checkSchema(value, sourceMap, file);
  // A value the schema already faulted is not faulted again by the semantic checks.
  const faulted = new Set(schemaProblems.map((p) => p.path));
  const semanticProblems = checkSemantics(value, sourceMap, file, baseDir).filter((p) => !faulted.has(p.path));
  const problems = [...parsed.problems, ...schemaProblems, ...semanticProblems];
  if (problems.length > 0) return fail(problems);
  return { ok: true, spec: buildSpec(value as Record<string, unknown>, baseDir) };
}

/**
 * Reads and validates a spec file. Problems name the file as given; relative handler paths
 * resolve against the file's directory. An unreadable file is one problem, not an exception.
 */
export async function loadSpecFile(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return fail([{ file: path, line: 1, col: 1, path: '', message: readErrorMessage(err) }]);
  }
  return loadSpecText(text, { file: path, baseDir: dirname(resolve(path)) });
}

/** `FILE:LINE:COL: PATH: message`; a problem with the document as a whole shows `(root)`. */
export function formatProblem(p: SpecProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path === '' ? '(root)' : p.path}: ${p.message}`;
}

function fail(problems: readonly SpecProblem[]): LoadResult {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = formatProblem(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // Array.prototype.sort is stable: problems at one position keep the order they were found in.
  const sorted = [...unique].sort((a, b) => a.line - b.line || a.col - b.col);
  return { ok: false, problems: Object.freeze(sorted.map((p) => Object.freeze({ ...p }))) };
}

function readErrorMessage(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'cannot read the spec: no such file';
    case 'EISDIR':
      return 'cannot read the spec: it is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'cannot read the spec: permission denied';
    default:
      return `cannot read the spec: ${(err as Error)?.message ?? String(err)}`;
  }
}
