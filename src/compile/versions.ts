/**
 * Versions: short content hashes that let the diff tell the hot-swap kinds apart (restart,
 * reconfigure, scale), the way Ray Serve compares deployment versions.
 *
 * Every version is a sha256 over canonical JSON, so the same Spec always gives the same
 * version whatever the key order in the YAML, and any field that matters changes it.
 */
import { createHash } from 'node:crypto';
import type { JsonValue } from '../spec/types.ts';
import type { DeploymentId, Scaling } from './types.ts';

/**
 * Hex digits kept from the sha256. 64 bits: a collision between two versions of one deployment
 * is not a practical concern, and the ids stay readable in status output and logs.
 */
const SHORT_HEX = 16;

/** A short sha256 hex digest of text or bytes. */
export function shortHash(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, SHORT_HEX);
}

/**
 * JSON with object keys sorted at every level, so equal values always serialise the same.
 * `undefined` is kept distinct from `null` (a constructor sees the difference) by serialising
 * it as the bare word `undefined`, which no JSON value produces.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    if (obj[key] === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(obj[key])}`);
  }
  return `{${parts.join(',')}}`;
}

/** What goes into a deployment's code version; a change means a rolling restart. */
export interface CodeVersionInput {
  readonly handler_path: string;
  readonly export_name: string | undefined;
  /** File path -> content hash (or `missing`) for the handler and its local imports. */
  readonly code_hashes: Readonly<Record<string, string>>;
  readonly args: JsonValue | undefined;
  readonly bindings: Readonly<Record<string, DeploymentId>>;
  readonly env: Readonly<Record<string, string>>;
}

/** The code version: handler path and export, code content, args, bindings, env. */
export function codeVersion(input: CodeVersionInput): string {
  return shortHash(
    canonicalJson({
      handler_path: input.handler_path,
      export_name: input.export_name ?? null,
      code: input.code_hashes,
      // Wrapped so that `args: undefined` and `args: null` hash differently.
      args: { value: input.args },
      bindings: input.bindings,
      env: input.env,
    }),
  );
}

/** The user_config version: `none` when the deployment has no user_config. */
export function userConfigVersion(userConfig: JsonValue | undefined): string {
  return userConfig === undefined ? 'none' : shortHash(canonicalJson(userConfig));
}

/** What goes into a deployment's scale version; a change restarts nothing. */
export interface ScaleVersionInput {
  readonly scaling: Scaling;
  readonly max_ongoing_requests: number;
  readonly max_queued_requests: number;
  readonly health_check_period_s: number;
  readonly health_check_timeout_s: number;
  readonly graceful_shutdown_timeout_s: number;
}

/** The scale version: replica counts, autoscaling, limits and timeouts. */
export function scaleVersion(input: ScaleVersionInput): string {
  return shortHash(
    canonicalJson({
      scaling: input.scaling,
      max_ongoing_requests: input.max_ongoing_requests,
      max_queued_requests: input.max_queued_requests,
      health_check_period_s: input.health_check_period_s,
      health_check_timeout_s: input.health_check_timeout_s,
      graceful_shutdown_timeout_s: input.graceful_shutdown_timeout_s,
    }),
  );
}
