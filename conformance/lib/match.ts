/**
 * Expectation checks: pure functions from (expected, actual) to a list of human-readable
 * mismatches. An empty list means the expectation holds. Keeping them pure lets the runner
 * retry an expectation (`wait: until_http`) and report the last mismatch verbatim.
 */
import type { CliExpect, HttpExpect } from './scenario.ts';

function show(v: unknown): string {
  return v === undefined ? 'undefined' : JSON.stringify(v);
}

/**
 * Subset match. Objects: every expected key must be present and match. Arrays: every expected
 * element must match a distinct actual element, in any order (so a Plan's deployment order is
 * not pinned by a test that does not care). Scalars: strict equality.
 */
export function subsetMismatches(expected: unknown, actual: unknown, path = '$'): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${show(actual)}`];
    const used = new Set<number>();
    const out: string[] = [];
    expected.forEach((want, i) => {
      const hit = actual.findIndex((got, j) => !used.has(j) && subsetMismatches(want, got).length === 0);
      if (hit === -1) {
        out.push(`${path}: no element matches expected[${i}] ${show(want)}; actual ${show(actual)}`);
      } else {
        used.add(hit);
      }
    });
    return out;
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
      return [`${path}: expected an object, got ${show(actual)}`];
    }
    const out: string[] = [];
    for (const [key, want] of Object.entries(expected)) {
      const sub = `${path}.${key}`;
      if (!(key in actual)) {
        out.push(`${sub}: missing (expected ${show(want)})`);
        continue;
      }
      out.push(...subsetMismatches(want, (actual as Record<string, unknown>)[key], sub));
    }
    return out;
  }
  return expected === actual ? [] : [`${path}: expected ${show(expected)}, got ${show(actual)}`];
}

/** Splits output into lines; a final newline does not make an extra empty line. */
export function toLines(text: string): string[] {
  const normal = text.replace(/\r\n/g, '\n');
  if (normal === '') return [];
  return (normal.endsWith('\n') ? normal.slice(0, -1) : normal).split('\n');
}

function linesMismatch(stream: string, expected: string[], actual: string[]): string[] {
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    if (expected[i] !== actual[i]) {
      return [
        `${stream}_lines: line ${i + 1} differs (expected ${expected.length} lines, got ${actual.length})`,
        `  expected: ${show(expected[i])}`,
        `  actual:   ${show(actual[i])}`,
      ];
    }
  }
  return [];
}

function containsMismatch(what: string, needles: string[], text: string): string[] {
  return needles.filter((s) => !text.includes(s)).map((s) => `${what}: does not contain ${show(s)}`);
}

function parseJson(what: string, text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `${what}: not JSON (${(err as Error).message})` };
  }
}

export interface CliResult {
  exit: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export function cliMismatches(want: CliExpect, got: CliResult): string[] {
  const out: string[] = [];
  if (want.exit !== undefined && got.exit !== want.exit) {
    out.push(`exit: expected ${want.exit}, got ${got.exit ?? `signal ${got.signal}`}`);
  }
  if (want.stdout_contains) out.push(...containsMismatch('stdout', want.stdout_contains, got.stdout));
  if (want.stderr_contains) out.push(...containsMismatch('stderr', want.stderr_contains, got.stderr));
  if (want.stdout_lines) out.push(...linesMismatch('stdout', want.stdout_lines, toLines(got.stdout)));
  if (want.stderr_lines) out.push(...linesMismatch('stderr', want.stderr_lines, toLines(got.stderr)));
  if (want.stdout_json !== undefined) {
    const parsed = parseJson('stdout', got.stdout);
    if (!parsed.ok) out.push(parsed.error);
    else out.push(...subsetMismatches(want.stdout_json, parsed.value, 'stdout_json'));
  }
  return out;
}

export interface HttpResult {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

export function httpMismatches(want: HttpExpect, got: HttpResult): string[] {
  const out: string[] = [];
  if (want.status !== undefined && got.status !== want.status) {
    out.push(`status: expected ${want.status}, got ${got.status}`);
  }
  if (want.body !== undefined && got.body !== want.body) {
    out.push(`body: expected ${show(want.body)}, got ${show(got.body)}`);
  }
  if (want.body_contains) out.push(...containsMismatch('body', want.body_contains, got.body));
  if (want.json !== undefined) {
    const parsed = parseJson('body', got.body);
    if (!parsed.ok) out.push(parsed.error);
    else out.push(...subsetMismatches(want.json, parsed.value, 'json'));
  }
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const actual = got.headers[name.toLowerCase()];
    if (value === true && actual === undefined) out.push(`header ${name}: missing`);
    else if (value === false && actual !== undefined) out.push(`header ${name}: expected absent, got ${show(actual)}`);
    else if (typeof value === 'string' && actual !== value) out.push(`header ${name}: expected ${show(value)}, got ${show(actual)}`);
  }
  // The body is the most useful context for a failed status or JSON check.
  if (out.length > 0 && want.body === undefined) out.push(`  (status ${got.status}, body ${show(got.body.slice(0, 500))})`);
  return out;
}
