/** YAML with positions: where keys and values start, duplicates, syntax errors. */
import t from 'tap';
import { parseYaml, type SourceMap } from '../../src/spec/parse-yaml.ts';
import { formatPath, pointerToSegments } from '../../src/spec/paths.ts';

function parsed(text: string): { value: unknown; sourceMap: SourceMap; problems: readonly { line: number; col: number; path: string; message: string }[] } {
  const r = parseYaml(text, 'f.yaml');
  if (!r.ok) throw new Error(`unexpected syntax error: ${r.problems.map((p) => p.message).join('; ')}`);
  return r;
}

const TEXT = [
  'applications:',          // 1
  '  - name: a',            // 2
  '    deployments:',       // 3
  '      - name: D',        // 4
  '        env: { A: "1" }',// 5
  '        args:',          // 6
  '  - { name: b }',        // 7
].join('\n');

t.test('locate points at keys and values, 1-based', async (t) => {
  const { sourceMap } = parsed(TEXT);
  t.same(sourceMap.locate([], 'value'), { line: 1, col: 1 });
  t.same(sourceMap.locate(['applications'], 'key'), { line: 1, col: 1 });
  t.same(sourceMap.locate(['applications'], 'value'), { line: 2, col: 3 });
  t.same(sourceMap.locate(['applications', 0], 'value'), { line: 2, col: 5 });
  t.same(sourceMap.locate(['applications', 0, 'name'], 'key'), { line: 2, col: 5 });
  t.same(sourceMap.locate(['applications', 0, 'name'], 'value'), { line: 2, col: 11 });
  t.same(sourceMap.locate(['applications', 0, 'deployments', 0, 'env', 'A'], 'key'), { line: 5, col: 16 });
  t.same(sourceMap.locate(['applications', 0, 'deployments', 0, 'env', 'A'], 'value'), { line: 5, col: 19 });
  t.same(sourceMap.locate(['applications', 1, 'name'], 'value'), { line: 7, col: 13 });
});

t.test('an empty value is located just after its key', async (t) => {
  const { sourceMap, value } = parsed(TEXT);
  t.equal((value as { applications: { deployments: { args: unknown }[] }[] }).applications[0]!.deployments[0]!.args, null);
  t.same(sourceMap.locate(['applications', 0, 'deployments', 0, 'args'], 'value'), { line: 6, col: 14 });
});

t.test('a path absent from the source falls back to its nearest ancestor\'s value', async (t) => {
  const { sourceMap } = parsed(TEXT);
  t.same(sourceMap.locate(['applications', 0, 'route_prefix'], 'key'), { line: 2, col: 5 });
  t.same(sourceMap.locate(['nothing', 'here'], 'value'), { line: 1, col: 1 });
});

t.test('every repeated key is reported at its repeat, naming the first', async (t) => {
  const { problems, value } = parsed('a: 1\nb: 2\na: 3\na: 4\n');
  t.same(problems.map((p) => [p.line, p.col, p.path, p.message]), [
    [3, 1, 'a', 'duplicate key "a" (first defined at 1:1)'],
    [4, 1, 'a', 'duplicate key "a" (first defined at 1:1)'],
  ]);
  t.same(value, { a: 4, b: 2 }, 'the last occurrence wins, as the positions assume');
});

t.test('syntax errors end the parse with their position', async (t) => {
  const r = parseYaml('a: [1, 2\nb: 3\n', 'f.yaml');
  t.equal(r.ok, false);
  t.match(r.problems[0], { file: 'f.yaml', path: '', message: /^YAML syntax error: / });
  const tabs = parseYaml('a:\n\tb: 1\n', 'f.yaml');
  t.equal(tabs.ok, false, 'tab indentation is a syntax error');
  t.same([tabs.problems[0]!.line, tabs.problems[0]!.col], [2, 1]);
});

t.test('an unclosed quote is reported at the opening quote, not at the end of the text', async (t) => {
  const r = parseYaml("a: 1\nb: 'never closed\nc: 2\n", 'f.yaml');
  t.equal(r.ok, false);
  t.same(r.problems.map((p) => [p.line, p.col]), [[2, 4]]);
});

t.test('an alias bomb is refused, not expanded', async (t) => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++) {
    const prev = String.fromCharCode(97 + i);
    const next = String.fromCharCode(98 + i);
    lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(', ')}]`);
  }
  const r = parseYaml(lines.join('\n'), 'bomb.yaml');
  t.equal(r.ok, false);
  t.match(r.problems[0]!.message, /^YAML error: .*alias/i);
});

t.test('JSON text parses with positions, tabs included', async (t) => {
  const { value, sourceMap } = parsed('{\n\t"applications": [\n\t\t{"name": "a"}\n\t]\n}\n');
  t.same(value, { applications: [{ name: 'a' }] });
  t.same(sourceMap.locate(['applications', 0, 'name'], 'value'), { line: 3, col: 12 });
});

t.test('paths print as the contract shows them', async (t) => {
  t.equal(formatPath([]), '');
  t.equal(formatPath(['applications', 0, 'deployments', 1, 'num_replicas']), 'applications[0].deployments[1].num_replicas');
  t.equal(formatPath(['env', 'A.B']), 'env["A.B"]');
  t.equal(formatPath(['bindings', 'the-model']), 'bindings["the-model"]');
  t.same(pointerToSegments('/applications/0/env/0', { applications: [{ env: { 0: 'x' } }] }), ['applications', 0, 'env', '0']);
  t.same(pointerToSegments('/a~1b/c~0d', {}), ['a/b', 'c~d']);
});
