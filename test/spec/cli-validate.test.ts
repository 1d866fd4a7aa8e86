/**
 * `switchyard validate` end to end, through the published entry point (bin/switchyard.js, which
 * runs the compiled dist/: `npm run build` first; `npm ci` does it through `prepare`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}bin/switchyard.js`;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function switchyard(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

t.before(() => {
  if (!existsSync(`${root}dist/cli/main.js`)) throw new Error('dist/ is missing: run `npm run build` before this test');
});

t.test('a valid spec exits 0 and prints the summary on stdout', async (t) => {
  const r = await switchyard('validate', 'examples/pipeline/serve.yaml');
  t.equal(r.code, 0);
  t.equal(r.stdout, 'examples/pipeline/serve.yaml: valid (1 application, 4 deployments)\n');
  t.equal(r.stderr, '');
});

t.test('the full valid fixture counts applications and deployments', async (t) => {
  const r = await switchyard('validate', 'test/fixtures/valid/full.yaml');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'test/fixtures/valid/full.yaml: valid (2 applications, 3 deployments)\n');
});

const INVALID: ReadonlyArray<[string, string]> = [
  ['01-unknown-key-did-you-mean.yaml', '6:9: applications[0].deployments[0].num_replica: unknown key "num_replica" (did you mean "num_replicas"?)'],
  ['23-num-replicas-negative.yaml', '6:23: applications[0].deployments[0].num_replicas: must be an integer >= 0 or "auto"'],
  ['27-yaml-syntax-error.yaml', '4:15: (root): YAML syntax error: Nested mappings are not allowed in compact mappings'],
  ['28-empty-file.yaml', '1:1: (root): the spec is empty; it needs at least an "applications:" list'],
  ['13-binding-cycle-within-app.yaml', '13:24: applications[0].deployments[2].bindings.a: binding cycle: A -> B -> C -> A (bindings must not form a cycle)'],
];

for (const [name, line] of INVALID) {
  t.test(`${name}: exit 1 and the problem on stderr`, async (t) => {
    const file = `test/fixtures/invalid/${name}`;
    const r = await switchyard('validate', file);
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.equal(r.stderr, `${file}:${line}\n`);
  });
}

t.test('every problem is printed, one a line, in source order', async (t) => {
  const r = await switchyard('validate', 'test/fixtures/multi-problem.yaml');
  t.equal(r.code, 1);
  const f = 'test/fixtures/multi-problem.yaml';
  t.equal(r.stderr, [
    `${f}:4:9: applications[0].deployments[0].handler: missing required key "handler"`,
    `${f}:4:9: applications[0].deployments[0].handlr: unknown key "handlr" (did you mean "handler"?)`,
    `${f}:6:23: applications[0].deployments[0].num_replicas: must be an integer >= 0 or "auto"`,
    '',
  ].join('\n'));
});

t.test('--json prints {valid, problems} on stdout with the same exit code', async (t) => {
  const bad = await switchyard('validate', '--json', 'test/fixtures/invalid/25-health-check-period-zero.yaml');
  t.equal(bad.code, 1);
  t.same(JSON.parse(bad.stdout), {
    valid: false,
    problems: [{
      file: 'test/fixtures/invalid/25-health-check-period-zero.yaml', line: 6, col: 32,
      path: 'applications[0].deployments[0].health_check_period_s', message: 'must be a number > 0',
    }],
  });
  const good = await switchyard('validate', 'examples/hello/serve.yaml', '--json');
  t.equal(good.code, 0);
  t.same(JSON.parse(good.stdout), { valid: true, problems: [] });
});

t.test('a missing file is one clear problem, exit 1, no stack trace', async (t) => {
  const r = await switchyard('validate', 'no/such/serve.yaml');
  t.equal(r.code, 1);
  t.equal(r.stderr, 'no/such/serve.yaml:1:1: (root): cannot read the spec: no such file\n');
});

t.test('no FILE is a usage error (exit 2)', async (t) => {
  const r = await switchyard('validate');
  t.equal(r.code, 2);
  t.match(r.stderr, /missing required argument 'file'/);
});

t.test('--help shows examples', async (t) => {
  const r = await switchyard('validate', '--help');
  t.equal(r.code, 0);
  t.match(r.stdout, /Examples:\n\s+\$ switchyard validate serve\.yaml/);
});
