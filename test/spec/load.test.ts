/**
 * Loading valid specs: defaults filled, derived fields set, autoscaling expanded as Ray Serve
 * does, the result deep-frozen; and the shape of the results for invalid ones.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { formatProblem, loadSpecFile, loadSpecText, type LoadResult, type Spec } from '../../src/spec/index.ts';

const validDir = fileURLToPath(new URL('../fixtures/valid/', import.meta.url)).replace(/\/$/, '');
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The Spec, or a thrown error listing the problems (which fails the test that called it). */
function specOf(result: LoadResult): Spec {
  if (!result.ok) throw new Error(`expected a valid spec, got:\n${result.problems.map(formatProblem).join('\n')}`);
  return result.spec;
}

t.test('a minimal spec gets every default', async (t) => {
  const spec = specOf(await loadSpecFile(`${validDir}/minimal.yaml`));
  t.same(spec.http_options, { host: '127.0.0.1', port: 8000, keep_alive_timeout_s: 5, max_body_bytes: 10485760 });
  t.notOk('request_timeout_s' in spec.http_options, 'no request timeout unless given');
  t.same(spec.admin, { host: '127.0.0.1', port: 8265 });
  t.equal(spec.base_dir, validDir);
  const app = spec.applications[0]!;
  t.equal(app.route_prefix, '/');
  t.equal(app.ingress, 'Hello', 'the only deployment is the ingress');
  t.same(app.deployments[0], {
    name: 'Hello',
    handler: './handlers/model.ts',
    bindings: {},
    num_replicas: 1,
    max_ongoing_requests: 5,
    max_queued_requests: -1,
    health_check_period_s: 10,
    health_check_timeout_s: 30,
    graceful_shutdown_timeout_s: 20,
    env: {},
  });
  t.notOk('autoscaling_config' in app.deployments[0]!, 'no autoscaling_config is invented');
  t.notOk('args' in app.deployments[0]!);
  t.notOk('user_config' in app.deployments[0]!);
});

t.test('a spec with every field keeps every value', async (t) => {
  const spec = specOf(await loadSpecFile(`${validDir}/full.yaml`));
  t.same(spec.http_options, { host: '0.0.0.0', port: 9000, request_timeout_s: 12.5, keep_alive_timeout_s: 7, max_body_bytes: 2048 });
  t.same(spec.admin, { host: '127.0.0.2', port: 9265 });
  const [text, search] = spec.applications;
  t.equal(text!.route_prefix, '/text');
  t.equal(text!.ingress, 'Pipeline');
  t.same(text!.deployments[0], {
    name: 'Pipeline',
    handler: './handlers/pipeline.ts',
    args: { greeting: 'hi', tags: ['a', 'b'], depth: 3 },
    bindings: { model: 'Model', search: 'app:search' },
    num_replicas: 2,
    max_ongoing_requests: 7,
    max_queued_requests: 50,
    user_config: { threshold: 0.5 },
    health_check_period_s: 3,
    health_check_timeout_s: 4,
    graceful_shutdown_timeout_s: 6,
    env: { LOG_LEVEL: 'info', WORKERS: '4' },
  });
  t.same(text!.deployments[1]!.autoscaling_config, {
    min_replicas: 0, max_replicas: 10, initial_replicas: 2, target_ongoing_requests: 3, upscale_delay_s: 1.5,
    downscale_delay_s: 120, metrics_interval_s: 2, look_back_period_s: 20, downscale_to_zero_delay_s: 60,
    upscaling_factor: 2, downscaling_factor: 0.5, panic_window_s: 6, panic_threshold: 2.5,
  });
  t.equal(text!.deployments[1]!.num_replicas, 'auto');
  t.equal(search!.route_prefix, null, 'null route_prefix is kept: not exposed over HTTP');
});

t.test('autoscaling_config without num_replicas autoscales from Ray\'s AutoscalingConfig defaults', async (t) => {
  const spec = specOf(await loadSpecFile(`${validDir}/full.yaml`));
  const index = spec.applications[1]!.deployments[0]!;
  t.equal(index.num_replicas, 'auto');
  t.same(index.autoscaling_config, {
    min_replicas: 1, max_replicas: 3, target_ongoing_requests: 2, upscale_delay_s: 30, downscale_delay_s: 600,
    metrics_interval_s: 10, look_back_period_s: 30, upscaling_factor: 1, downscaling_factor: 1,
  });
});

t.test('num_replicas "auto" with some autoscaling fields: the auto defaults fill the rest', async (t) => {
  const text = `
applications:
  - name: a
    deployments:
      - name: D
        handler: ./handlers/model.ts
        num_replicas: auto
        autoscaling_config: { target_ongoing_requests: 4 }
`;
  const spec = specOf(loadSpecText(text, { file: 'inline.yaml', baseDir: validDir }));
  t.same(spec.applications[0]!.deployments[0]!.autoscaling_config, {
    min_replicas: 1, max_replicas: 100, target_ongoing_requests: 4, upscale_delay_s: 30, downscale_delay_s: 600,
    metrics_interval_s: 10, look_back_period_s: 30, upscaling_factor: 1, downscaling_factor: 1,
  });
});

t.test('num_replicas "auto" alone leaves autoscaling_config absent (compile expands it)', async (t) => {
  const spec = specOf(await loadSpecFile(`${validDir}/spec.json`));
  const d = spec.applications[0]!.deployments[0]!;
  t.equal(d.num_replicas, 'auto');
  t.notOk('autoscaling_config' in d);
});

t.test('JSON text is accepted (JSON is YAML)', async (t) => {
  const spec = specOf(await loadSpecFile(`${validDir}/spec.json`));
  t.equal(spec.http_options.port, 0, 'port 0 picks a free port');
  t.equal(spec.applications[0]!.route_prefix, '/json');
  t.same(spec.applications[0]!.deployments[0]!.user_config, { t: 0.5 });
});

t.test('the Spec is deep-frozen', async (t) => {
  const spec = specOf(await loadSpecFile(`${validDir}/full.yaml`));
  const frozen: unknown[] = [];
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    frozen.push(v);
    for (const child of Object.values(v)) walk(child);
  };
  walk(spec);
  t.ok(frozen.length > 20, 'walked the whole tree');
  t.ok(frozen.every((o) => Object.isFrozen(o)), 'every object and array is frozen');
  const d = spec.applications[0]!.deployments[0]!;
  t.throws(() => { (d as { num_replicas: number }).num_replicas = 9; }, TypeError);
  t.throws(() => { (d.args as { tags: string[] }).tags.push('c'); }, TypeError);
  t.throws(() => { (d.env as Record<string, string>).X = 'y'; }, TypeError);
});

t.test('loadSpecText resolves handlers against baseDir and names the given file', async (t) => {
  const text = 'applications:\n  - name: a\n    deployments:\n      - name: D\n        handler: ./handlers/nope.ts\n';
  const result = loadSpecText(text, { file: '<request>', baseDir: validDir });
  t.equal(result.ok, false);
  if (result.ok) return;
  t.same(result.problems.map(formatProblem), [
    `<request>:5:18: applications[0].deployments[0].handler: handler file not found: ./handlers/nope.ts (looked for ${validDir}/handlers/nope.ts)`,
  ]);
  const ok = loadSpecText(text.replace('nope.ts', 'model.ts'), { file: '<request>', baseDir: validDir });
  t.equal(ok.ok, true);
  t.equal(ok.ok && ok.spec.base_dir, validDir);
});

t.test('a relative baseDir is made absolute', async (t) => {
  const text = 'applications: []\n';
  const result = loadSpecText(text, { file: 'x.yaml', baseDir: '.' });
  t.equal(result.ok && result.spec.base_dir, process.cwd());
  t.same(result.ok && result.spec.applications, [], 'an empty applications list is valid (it deletes every app)');
});

t.test('an absolute handler path is accepted', async (t) => {
  const text = `applications:\n  - name: a\n    deployments:\n      - name: D\n        handler: ${validDir}/handlers/model.ts#Model\n`;
  t.equal(loadSpecText(text, { file: 'x.yaml', baseDir: '/' }).ok, true);
});

t.test('all problems are returned at once, sorted by line then column', async (t) => {
  const text = [
    'admin: { port: -1 }',
    'applications:',
    '  - name: a',
    '    route_prefix: x',
    '    deployments:',
    '      - name: D',
    '        handler: ./handlers/model.ts',
    '        env: { A: true }',
    '        max_ongoing_requests: 0',
    '  - name: a',
    '    route_prefix: /b',
    '    deployments: [{ name: D, handler: ./handlers/missing.ts }]',
  ].join('\n');
  const result = loadSpecText(text, { file: 's.yaml', baseDir: validDir });
  t.equal(result.ok, false);
  if (result.ok) return;
  t.same(result.problems.map((p) => `${p.line}:${p.col} ${p.path}`), [
    '1:16 admin.port',
    '4:19 applications[0].route_prefix',
    '8:19 applications[0].deployments[0].env.A',
    '9:31 applications[0].deployments[0].max_ongoing_requests',
    '10:11 applications[1].name',
    '12:39 applications[1].deployments[0].handler',
  ]);
  t.ok(Object.isFrozen(result.problems));
});

t.test('a duplicate key and a schema problem are both reported', async (t) => {
  const text = 'applications:\n  - name: a\n    name: b\n    deployments: 5\n';
  const result = loadSpecText(text, { file: 'd.yaml', baseDir: validDir });
  t.same(!result.ok && result.problems.map(formatProblem), [
    'd.yaml:3:5: applications[0].name: duplicate key "name" (first defined at 2:5)',
    'd.yaml:4:18: applications[0].deployments: must be a non-empty list',
  ]);
});

t.test('a document of only comments is empty', async (t) => {
  const result = loadSpecText('# nothing yet\n', { file: 'c.yaml', baseDir: validDir });
  t.same(!result.ok && result.problems.map(formatProblem), ['c.yaml:1:1: (root): the spec is empty; it needs at least an "applications:" list']);
});

t.test('a scalar root is a clear problem', async (t) => {
  const result = loadSpecText('hello\n', { file: 'c.yaml', baseDir: validDir });
  t.same(!result.ok && result.problems.map(formatProblem), ['c.yaml:1:1: (root): the spec must be a mapping with an "applications:" list (found a string)']);
});

t.test('a directory given as the spec file is one problem', async (t) => {
  const result = await loadSpecFile(validDir);
  t.same(!result.ok && result.problems.map(formatProblem), [`${validDir}:1:1: (root): cannot read the spec: it is a directory, not a file`]);
});

t.test('the examples are valid', async (t) => {
  for (const example of ['examples/hello/serve.yaml', 'examples/pipeline/serve.yaml']) {
    const spec = specOf(await loadSpecFile(`${repoRoot}${example}`));
    t.equal(spec.base_dir, dirname(`${repoRoot}${example}`), example);
  }
});
