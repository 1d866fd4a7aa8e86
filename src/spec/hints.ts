/**
 * Messages for unknown keys: a "did you mean" for a misspelling, a pointed answer for the
 * Ray Serve keys that have no meaning here, and "belongs in" for a key written at the wrong level.
 * A Ray Serve user's first spec is mostly a Ray config; these turn its leftovers into instructions.
 */

/** Ray Serve keys with no counterpart, and what to write instead. */
const RAY_SERVE_KEYS: Readonly<Record<string, string>> = Object.freeze({
  import_path: 'use handler: ./file.ts#Export instead (a module path relative to this spec)',
  runtime_env: 'use env: { NAME: value } for environment variables, and install packages with npm',
  ray_actor_options: 'not applicable, each replica is a Node.js process',
  placement_group_bundles: 'not applicable, each replica is a Node.js process',
  placement_group_strategy: 'not applicable, each replica is a Node.js process',
  max_replicas_per_node: 'not applicable, Switchyard runs on one host',
  proxy_location: 'not applicable, Switchyard runs one proxy on one host',
  grpc_options: 'not supported, Switchyard serves HTTP only',
  logging_config: 'not supported, replicas log to the gateway\'s stderr',
  target_capacity: 'not supported, scale with num_replicas or autoscaling_config',
  max_concurrent_queries: 'an old name, write max_ongoing_requests',
  target_num_ongoing_requests_per_replica: 'an old name, write target_ongoing_requests',
  graceful_shutdown_wait_loop_s: 'not applicable, a stopping replica drains, then stops within graceful_shutdown_timeout_s',
  upscale_smoothing_factor: 'an old name, write upscaling_factor',
  downscale_smoothing_factor: 'an old name, write downscaling_factor',
});

/** Where each key is allowed, for "belongs in" hints; kept in step with the schema by a test. */
export const KEY_LEVELS: ReadonlyArray<{ readonly where: string; readonly keys: readonly string[] }> = Object.freeze([
  { where: 'the top level', keys: ['http_options', 'admin', 'applications'] },
  { where: 'http_options', keys: ['host', 'port', 'request_timeout_s', 'keep_alive_timeout_s', 'max_body_bytes'] },
  { where: 'an application', keys: ['name', 'route_prefix', 'ingress', 'deployments'] },
  {
    where: 'a deployment',
    keys: [
      'name', 'handler', 'args', 'bindings', 'num_replicas', 'max_ongoing_requests', 'max_queued_requests',
      'user_config', 'health_check_period_s', 'health_check_timeout_s', 'graceful_shutdown_timeout_s', 'env',
      'autoscaling_config',
    ],
  },
  {
    where: 'autoscaling_config',
    keys: [
      'min_replicas', 'max_replicas', 'initial_replicas', 'target_ongoing_requests', 'upscale_delay_s',
      'downscale_delay_s', 'metrics_interval_s', 'look_back_period_s', 'downscale_to_zero_delay_s',
      'upscaling_factor', 'downscaling_factor', 'panic_window_s', 'panic_threshold',
    ],
  },
]);

/**
 * The message for `key`, unknown where it was written; `allowed` are the keys allowed there.
 * e.g. `unknown key "num_replica" (did you mean "num_replicas"?)`.
 */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const ray = RAY_SERVE_KEYS[key];
  if (ray !== undefined) return `unknown key "${key}" from Ray Serve: ${ray}`;
  // A key spelt right but written at the wrong level is more likely than a misspelling.
  const elsewhere = KEY_LEVELS.find((level) => level.keys.includes(key));
  if (elsewhere !== undefined) return `unknown key "${key}" here; it belongs in ${elsewhere.where}`;
  const suggestion = didYouMean(key, allowed);
  if (suggestion !== undefined) return `unknown key "${key}" (did you mean "${suggestion}"?)`;
  return allowed.length > 0
    ? `unknown key "${key}" (allowed here: ${allowed.join(', ')})`
    : `unknown key "${key}"`;
}

/**
 * The allowed word closest to `word`, when close enough to be a slip: the same words in another
 * case or in camelCase, one a prefix of the other, or a small edit distance (transpositions
 * count as one edit, since they are the commonest typo).
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const normalized = normalize(word);
  const exact = candidates.find((c) => normalize(c) === normalized);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(normalized, normalize(c));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const budget = Math.max(1, Math.floor(normalized.length / 4));
  if (best !== undefined && bestDistance <= budget) return best;
  if (normalized.length >= 4) {
    const prefixed = candidates.find((c) => c.startsWith(normalized) || normalized.startsWith(c));
    if (prefixed !== undefined) return prefixed;
  }
  return undefined;
}

/** `numReplicas`, `Num-Replicas` and `num_replicas` all normalize to `num_replicas`. */
function normalize(word: string): string {
  return word
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s]+/g, '_')
    .toLowerCase();
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]![j]!;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i]![j] = v;
    }
  }
  return at(rows - 1, cols - 1);
}
