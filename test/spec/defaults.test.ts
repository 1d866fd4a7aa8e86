/**
 * The autoscaling defaults live in code (they depend on num_replicas); the schema documents the
 * same numbers for editors. These tests keep the two, and the hint tables, in step.
 */
import t from 'tap';
import {
  AUTOSCALING_CONFIG_DEFAULTS,
  AUTO_NUM_REPLICAS_DEFAULTS,
  autoscalingDefaults,
  resolveAutoscaling,
  serveSchema,
} from '../../src/spec/index.ts';
import { KEY_LEVELS } from '../../src/spec/hints.ts';

type Node = { properties?: Record<string, Node & { default?: unknown }>; $defs?: Record<string, Node> };
const schema = serveSchema() as Node;
const defs = schema.$defs!;

t.test('the schema documents the AutoscalingConfig defaults that defaults.ts applies', async (t) => {
  const documented = Object.fromEntries(
    Object.entries(defs.autoscaling_config!.properties!).filter(([, p]) => 'default' in p).map(([k, p]) => [k, p.default]),
  );
  t.same(documented, AUTOSCALING_CONFIG_DEFAULTS);
});

t.test('Ray Serve\'s defaults: AutoscalingConfig max 1, num_replicas "auto" max 100', async (t) => {
  t.same(autoscalingDefaults(undefined), {
    min_replicas: 1, max_replicas: 1, target_ongoing_requests: 2, upscale_delay_s: 30, downscale_delay_s: 600,
    metrics_interval_s: 10, look_back_period_s: 30, upscaling_factor: 1, downscaling_factor: 1,
  });
  t.equal(autoscalingDefaults('auto'), AUTO_NUM_REPLICAS_DEFAULTS);
  t.same({ ...autoscalingDefaults('auto') }, { ...AUTOSCALING_CONFIG_DEFAULTS, max_replicas: 100 });
  t.ok(Object.isFrozen(AUTOSCALING_CONFIG_DEFAULTS) && Object.isFrozen(AUTO_NUM_REPLICAS_DEFAULTS));
});

t.test('resolveAutoscaling: given fields win, derived defaults follow them', async (t) => {
  t.same(resolveAutoscaling('auto', { min_replicas: 2, downscale_delay_s: 60 }), {
    ...AUTO_NUM_REPLICAS_DEFAULTS, min_replicas: 2, downscale_delay_s: 60,
    initial_replicas: 2, downscale_to_zero_delay_s: 60,
  });
  t.same(resolveAutoscaling(undefined, { max_replicas: 4, initial_replicas: 3, downscale_to_zero_delay_s: 5 }), {
    ...AUTOSCALING_CONFIG_DEFAULTS, max_replicas: 4, initial_replicas: 3, downscale_to_zero_delay_s: 5,
  });
  t.equal(resolveAutoscaling('auto', { panic_window_s: 6 }).panic_threshold, 2, 'panic threshold defaults with a window');
  t.equal(resolveAutoscaling('auto', { panic_window_s: 6, panic_threshold: 3 }).panic_threshold, 3);
  t.notOk('panic_window_s' in resolveAutoscaling('auto', undefined), 'panic mode stays off without a window');
  t.notOk('panic_threshold' in resolveAutoscaling('auto', undefined));
});

t.test('the schema has $schema, $id and a default for every defaulted field', async (t) => {
  const s = schema as Record<string, unknown>;
  t.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
  t.type(s.$id, 'string');
  const deployment = defs.deployment!.properties!;
  t.same(
    Object.fromEntries(Object.entries(deployment).filter(([, p]) => 'default' in p).map(([k, p]) => [k, p.default])),
    {
      bindings: {}, num_replicas: 1, max_ongoing_requests: 5, max_queued_requests: -1, health_check_period_s: 10,
      health_check_timeout_s: 30, graceful_shutdown_timeout_s: 20, env: {},
    },
  );
  const http = schema.properties!.http_options!.properties!;
  t.same([http.host!.default, http.port!.default, http.keep_alive_timeout_s!.default, http.max_body_bytes!.default], ['127.0.0.1', 8000, 5, 10485760]);
  const admin = schema.properties!.admin!.properties!;
  t.same([admin.host!.default, admin.port!.default], ['127.0.0.1', 8265]);
  t.equal(defs.application!.properties!.route_prefix!.default, '/');
});

t.test('every object in the schema refuses unknown keys', async (t) => {
  const open: string[] = [];
  const walk = (node: unknown, where: string): void => {
    if (node === null || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.type === 'object' && n.additionalProperties === undefined) open.push(where);
    for (const [k, v] of Object.entries(n)) walk(v, `${where}/${k}`);
  };
  walk(schema, '#');
  t.same(open, []);
});

t.test('the "belongs in" table lists exactly the schema\'s keys at each level', async (t) => {
  const levels = Object.fromEntries(KEY_LEVELS.map((l) => [l.where, [...l.keys].sort()]));
  t.same(levels, {
    'the top level': Object.keys(schema.properties!).sort(),
    http_options: Object.keys(schema.properties!.http_options!.properties!).sort(),
    'an application': Object.keys(defs.application!.properties!).sort(),
    'a deployment': Object.keys(defs.deployment!.properties!).sort(),
    autoscaling_config: Object.keys(defs.autoscaling_config!.properties!).sort(),
  });
});
