/**
 * The scenario format: `scenario.yaml` parsed and checked into typed steps.
 *
 * The format is language-neutral on purpose (another runner could read the same files), so this
 * module checks it strictly: an unknown step kind or key is an error in the scenario, reported
 * before any step runs, rather than a step that silently checks nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** What a `cli` step may expect of the command's result. */
export interface CliExpect {
  exit?: number;
  stdout_contains?: string[];
  stderr_contains?: string[];
  stdout_lines?: string[];
  stderr_lines?: string[];
  stdout_json?: unknown;
}

/** What an `http` (or `wait: until_http`) step may expect of the response. */
export interface HttpExpect {
  status?: number;
  body?: string;
  body_contains?: string[];
  json?: unknown;
  /** Names case-insensitive; a value `true` means present, `false` absent, a string exact. */
  headers?: Record<string, string | boolean>;
}

export interface StopExpect {
  exit?: number;
  signal?: string;
}

export interface HttpRequestSpec {
  method: string;
  /** A path under `${http}`, or a whole `http://...` URL (e.g. `${admin}/api/...`). */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  timeout_ms: number;
}

export type Step =
  | { kind: 'cli'; name?: string; args: string[]; env: Record<string, string>; stdin?: string; timeout_ms: number; expect: CliExpect }
  | { kind: 'start'; name?: string; spec: string; args: string[]; env: Record<string, string>; watch: boolean; wait_running: boolean; timeout_ms: number }
  | { kind: 'http'; name?: string; request: HttpRequestSpec; repeat: number; expect: HttpExpect }
  | { kind: 'write_file'; name?: string; path: string; content: string }
  | { kind: 'copy_file'; name?: string; from: string; to: string }
  | { kind: 'wait'; name?: string; ms?: number; until_http?: HttpRequestSpec; timeout_ms: number; interval_ms: number; expect: HttpExpect }
  | { kind: 'stop'; name?: string; timeout_ms: number; no_orphans: boolean; expect: StopExpect };

export interface Scenario {
  /** The directory name, e.g. `001-valid-hello`. */
  name: string;
  dir: string;
  description: string;
  timeout_s: number;
  steps: Step[];
}

/** A mistake in a scenario file itself (not a failure of the system under test). */
export class ScenarioFormatError extends Error {
  override name = 'ScenarioFormatError';
}

const STEP_KINDS = ['cli', 'start', 'http', 'write_file', 'copy_file', 'wait', 'stop'] as const;
const STEP_COMMON = ['name', 'expect'];
const EXPECT_KEYS: Record<string, readonly string[]> = {
  cli: ['exit', 'stdout_contains', 'stderr_contains', 'stdout_lines', 'stderr_lines', 'stdout_json'],
  http: ['status', 'body', 'body_contains', 'json', 'headers'],
  wait: ['status', 'body', 'body_contains', 'json', 'headers'],
  stop: ['exit', 'signal'],
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(where: string, value: Obj, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ScenarioFormatError(`${where}: unknown key "${key}" (allowed: ${allowed.join(', ')})`);
    }
  }
}

function str(where: string, v: unknown): string {
  if (typeof v !== 'string') throw new ScenarioFormatError(`${where}: must be a string`);
  return v;
}

function optStr(where: string, v: unknown): string | undefined {
  return v === undefined ? undefined : str(where, v);
}

function strList(where: string, v: unknown): string[] {
  // A single string is accepted where a list is expected: `stdout_contains: ok`.
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new ScenarioFormatError(`${where}: must be a list of strings`);
  }
  return v as string[];
}

function num(where: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ScenarioFormatError(`${where}: must be a number >= 0`);
  }
  return v;
}

function bool(where: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ScenarioFormatError(`${where}: must be true or false`);
  return v;
}

function strMap(where: string, v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (!isObj(v)) throw new ScenarioFormatError(`${where}: must be a mapping`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    // YAML turns `PORT: 80` into a number; environment and headers are strings anyway.
    if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') {
      throw new ScenarioFormatError(`${where}.${k}: must be a string`);
    }
    out[k] = String(x);
  }
  return out;
}

function parseExpect(where: string, kind: string, v: unknown): Obj {
  if (v === undefined) return {};
  if (!isObj(v)) throw new ScenarioFormatError(`${where}: must be a mapping`);
  onlyKeys(where, v, EXPECT_KEYS[kind] ?? []);
  const out: Obj = { ...v };
  for (const key of ['stdout_contains', 'stderr_contains', 'stdout_lines', 'stderr_lines', 'body_contains']) {
    if (v[key] !== undefined) out[key] = strList(`${where}.${key}`, v[key]);
  }
  for (const key of ['exit', 'status']) {
    if (v[key] !== undefined && !Number.isInteger(v[key])) {
      throw new ScenarioFormatError(`${where}.${key}: must be an integer`);
    }
  }
  if (v.headers !== undefined) {
    if (!isObj(v.headers)) throw new ScenarioFormatError(`${where}.headers: must be a mapping`);
    const headers: Record<string, string | boolean> = {};
    for (const [k, x] of Object.entries(v.headers)) headers[k] = typeof x === 'boolean' ? x : String(x);
    out.headers = headers;
  }
  for (const key of ['body', 'signal']) if (v[key] !== undefined) str(`${where}.${key}`, v[key]);
  return out;
}

function parseRequest(where: string, v: unknown): HttpRequestSpec {
  if (typeof v === 'string') v = { path: v };
  if (!isObj(v)) throw new ScenarioFormatError(`${where}: must be a mapping or a path`);
  onlyKeys(where, v, ['method', 'path', 'headers', 'body', 'json', 'timeout_ms']);
  if (v.body !== undefined && v.json !== undefined) {
    throw new ScenarioFormatError(`${where}: give body or json, not both`);
  }
  return {
    method: (optStr(`${where}.method`, v.method) ?? 'GET').toUpperCase(),
    path: str(`${where}.path`, v.path),
    headers: strMap(`${where}.headers`, v.headers),
    body: optStr(`${where}.body`, v.body),
    json: v.json,
    timeout_ms: num(`${where}.timeout_ms`, v.timeout_ms, 10_000),
  };
}

function parseStep(where: string, raw: unknown): Step {
  if (!isObj(raw)) throw new ScenarioFormatError(`${where}: must be a mapping`);
  const kinds = STEP_KINDS.filter((k) => k in raw);
  if (kinds.length !== 1) {
    throw new ScenarioFormatError(`${where}: needs exactly one of ${STEP_KINDS.join(', ')}`);
  }
  const kind = kinds[0]!;
  onlyKeys(where, raw, [kind, ...STEP_COMMON]);
  const name = optStr(`${where}.name`, raw.name);
  const body = raw[kind];
  const at = `${where}.${kind}`;
  if (raw.expect !== undefined && !(kind in EXPECT_KEYS)) {
    throw new ScenarioFormatError(`${where}: a ${kind} step takes no expect`);
  }
  const expect = parseExpect(`${where}.expect`, kind, raw.expect);

  switch (kind) {
    case 'cli': {
      const b = Array.isArray(body) ? { args: body } : body;
      if (!isObj(b)) throw new ScenarioFormatError(`${at}: must be a mapping or a list of args`);
      onlyKeys(at, b, ['args', 'env', 'stdin', 'timeout_ms']);
      return {
        kind, name, expect,
        args: strList(`${at}.args`, b.args),
        env: strMap(`${at}.env`, b.env),
        stdin: optStr(`${at}.stdin`, b.stdin),
        timeout_ms: num(`${at}.timeout_ms`, b.timeout_ms, 20_000),
      };
    }
    case 'start': {
      const b = body === null || body === undefined ? {} : typeof body === 'string' ? { spec: body } : body;
      if (!isObj(b)) throw new ScenarioFormatError(`${at}: must be a mapping`);
      onlyKeys(at, b, ['spec', 'args', 'env', 'watch', 'wait_running', 'timeout_ms']);
      return {
        kind, name,
        spec: optStr(`${at}.spec`, b.spec) ?? 'serve.yaml',
        args: b.args === undefined ? [] : strList(`${at}.args`, b.args),
        env: strMap(`${at}.env`, b.env),
        watch: bool(`${at}.watch`, b.watch, false),
        wait_running: bool(`${at}.wait_running`, b.wait_running, false),
        timeout_ms: num(`${at}.timeout_ms`, b.timeout_ms, 20_000),
      };
    }
    case 'http': {
      const b = typeof body === 'string' ? { path: body } : body;
      if (!isObj(b)) throw new ScenarioFormatError(`${at}: must be a mapping or a path`);
      const { repeat, ...request } = b;
      const times = num(`${at}.repeat`, repeat, 1);
      if (!Number.isInteger(times) || times < 1) throw new ScenarioFormatError(`${at}.repeat: must be an integer >= 1`);
      return { kind, name, expect, request: parseRequest(at, request), repeat: times };
    }
    case 'write_file': {
      if (!isObj(body)) throw new ScenarioFormatError(`${at}: must be a mapping`);
      onlyKeys(at, body, ['path', 'content']);
      return { kind, name, path: str(`${at}.path`, body.path), content: str(`${at}.content`, body.content) };
    }
    case 'copy_file': {
      if (!isObj(body)) throw new ScenarioFormatError(`${at}: must be a mapping`);
      onlyKeys(at, body, ['from', 'to']);
      return { kind, name, from: str(`${at}.from`, body.from), to: str(`${at}.to`, body.to) };
    }
    case 'wait': {
      const b = typeof body === 'number' ? { ms: body } : body;
      if (!isObj(b)) throw new ScenarioFormatError(`${at}: must be a mapping or a number of ms`);
      onlyKeys(at, b, ['ms', 'until_http', 'timeout_ms', 'interval_ms']);
      if ((b.ms === undefined) === (b.until_http === undefined)) {
        throw new ScenarioFormatError(`${at}: needs exactly one of ms, until_http`);
      }
      if (b.ms !== undefined && raw.expect !== undefined) {
        throw new ScenarioFormatError(`${where}: expect belongs to a wait with until_http`);
      }
      return {
        kind, name, expect,
        ms: b.ms === undefined ? undefined : num(`${at}.ms`, b.ms, 0),
        until_http: b.until_http === undefined ? undefined : parseRequest(`${at}.until_http`, b.until_http),
        timeout_ms: num(`${at}.timeout_ms`, b.timeout_ms, 10_000),
        interval_ms: num(`${at}.interval_ms`, b.interval_ms, 100),
      };
    }
    case 'stop': {
      const b = body === null || body === undefined ? {} : body;
      if (!isObj(b)) throw new ScenarioFormatError(`${at}: must be a mapping`);
      onlyKeys(at, b, ['timeout_ms', 'no_orphans']);
      return {
        kind, name, expect,
        timeout_ms: num(`${at}.timeout_ms`, b.timeout_ms, 15_000),
        no_orphans: bool(`${at}.no_orphans`, b.no_orphans, true),
      };
    }
  }
}

/** Reads and checks `DIR/scenario.yaml`; throws ScenarioFormatError on a malformed file. */
export function loadScenario(dir: string, name: string): Scenario {
  const file = join(dir, 'scenario.yaml');
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScenarioFormatError(`${file}: ${(err as Error).message}`);
  }
  if (!isObj(raw)) throw new ScenarioFormatError(`${file}: must be a mapping`);
  onlyKeys('scenario', raw, ['description', 'timeout_s', 'steps']);
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) {
    throw new ScenarioFormatError('scenario.steps: must be a non-empty list');
  }
  return {
    name,
    dir,
    description: str('scenario.description', raw.description),
    timeout_s: num('scenario.timeout_s', raw.timeout_s, 90),
    steps: raw.steps.map((s, i) => parseStep(`steps[${i}]`, s)),
  };
}

/** A one-line label for a step in reports: `cli validate serve.yaml`, `http GET /`. */
export function stepLabel(step: Step): string {
  if (step.name) return step.name;
  switch (step.kind) {
    case 'cli': return `cli ${step.args.join(' ')}`;
    case 'start': return `start ${step.spec}`;
    case 'http': return `http ${step.request.method} ${step.request.path}${step.repeat > 1 ? ` x${step.repeat}` : ''}`;
    case 'write_file': return `write_file ${step.path}`;
    case 'copy_file': return `copy_file ${step.from} -> ${step.to}`;
    case 'wait': return step.until_http ? `wait until ${step.until_http.method} ${step.until_http.path}` : `wait ${step.ms}ms`;
    case 'stop': return 'stop';
  }
}
