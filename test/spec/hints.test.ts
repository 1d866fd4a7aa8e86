/** "Did you mean" and the Ray Serve key messages: a table of slips and what they suggest. */
import t from 'tap';
import { didYouMean, editDistance, unknownKeyMessage } from '../../src/spec/hints.ts';

const DEPLOYMENT_KEYS = [
  'name', 'handler', 'args', 'bindings', 'num_replicas', 'max_ongoing_requests', 'max_queued_requests',
  'user_config', 'health_check_period_s', 'health_check_timeout_s', 'graceful_shutdown_timeout_s', 'env',
  'autoscaling_config',
];

t.test('edit distance counts a transposition as one edit', async (t) => {
  t.equal(editDistance('', ''), 0);
  t.equal(editDistance('abc', ''), 3);
  t.equal(editDistance('handler', 'handlr'), 1);
  t.equal(editDistance('route', 'rotue'), 1);
  t.equal(editDistance('kitten', 'sitting'), 3);
});

const SLIPS: ReadonlyArray<[string, string | undefined]> = [
  ['num_replica', 'num_replicas'],
  ['numReplicas', 'num_replicas'],
  ['NUM_REPLICAS', 'num_replicas'],
  ['handlr', 'handler'],
  ['hanlder', 'handler'],
  ['max_ongoing_request', 'max_ongoing_requests'],
  ['maxQueuedRequests', 'max_queued_requests'],
  ['autoscaling', 'autoscaling_config'],
  ['binding', 'bindings'],
  ['user-config', 'user_config'],
  ['health_check_period', 'health_check_period_s'],
  ['replicas', undefined],
  ['colour', undefined],
  ['x', undefined],
];

for (const [slip, meant] of SLIPS) {
  t.test(`"${slip}" suggests ${meant ?? 'nothing'}`, async (t) => {
    t.equal(didYouMean(slip, DEPLOYMENT_KEYS), meant);
  });
}

t.test('unknown key messages', async (t) => {
  t.equal(unknownKeyMessage('num_replica', DEPLOYMENT_KEYS), 'unknown key "num_replica" (did you mean "num_replicas"?)');
  t.equal(unknownKeyMessage('import_path', DEPLOYMENT_KEYS),
    'unknown key "import_path" from Ray Serve: use handler: ./file.ts#Export instead (a module path relative to this spec)');
  t.match(unknownKeyMessage('runtime_env', ['name']), /use env: .*install packages with npm/);
  t.match(unknownKeyMessage('ray_actor_options', DEPLOYMENT_KEYS), /each replica is a Node\.js process/);
  t.equal(unknownKeyMessage('ingress', DEPLOYMENT_KEYS), 'unknown key "ingress" here; it belongs in an application');
  t.equal(unknownKeyMessage('min_replicas', DEPLOYMENT_KEYS), 'unknown key "min_replicas" here; it belongs in autoscaling_config');
  t.equal(unknownKeyMessage('colour', ['host', 'port']), 'unknown key "colour" (allowed here: host, port)');
});
