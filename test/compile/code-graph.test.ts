import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { codeGraph, MISSING } from '../../src/compile/code-graph.ts';
import { runAsync, runSync, SourceCache } from '../../src/compile/source-cache.ts';
import { tempTree, writeTree } from './make-spec.ts';

function graphOf(dir: string, entry: string, cache = new SourceCache()) {
  return runSync(codeGraph(join(dir, entry), cache));
}

function rel(dir: string, paths: readonly string[]): string[] {
  return paths.map((p) => p.slice(dir.length + 1)).sort();
}

t.test('follows extensionless, .js -> .ts, directory index and export-from imports transitively', async (t) => {
  const dir = tempTree({
    'handler.ts': `import { a } from './lib/a';\nimport b from './lib/b.js';\nexport * from './pkg';\nexport default class H {}`,
    'lib/a.ts': `import { c } from '../shared/c.mjs';\nexport const a = 1;`,
    'lib/b.ts': `export default 2;`,
    'shared/c.mts': `export const c = await import('./d.json', { with: { type: 'json' } });`,
    'shared/d.json': `{"import": "./not-followed"}`,
    'pkg/index.ts': `module.exports = require('./inner')`,
    'pkg/inner.cjs': `exports.x = 1`,
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const g = graphOf(dir, 'handler.ts');
  t.same(rel(dir, g.files), ['handler.ts', 'lib/a.ts', 'lib/b.ts', 'pkg/index.ts', 'pkg/inner.cjs', 'shared/c.mts', 'shared/d.json']);
  t.same(Object.keys(g.hashes).length, 7);
  t.ok(Object.values(g.hashes).every((h) => /^[0-9a-f]{16}$/.test(h)));
});

t.test('an import inside a comment or string is not followed', async (t) => {
  const dir = tempTree({
    'h.ts': `// import x from './commented'\n/* require('./block') */\nconst s = "import('./str')";\nexport default {};`,
    'commented.ts': '',
    'block.ts': '',
    'str.ts': '',
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.same(rel(dir, graphOf(dir, 'h.ts').files), ['h.ts']);
});

t.test('modules that import each other are each hashed once', async (t) => {
  const dir = tempTree({
    'h.ts': `import './a';`,
    'a.ts': `import './b'; export const a = 1;`,
    'b.ts': `import './a'; import './h'; export const b = 1;`,
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.same(rel(dir, graphOf(dir, 'h.ts').files), ['a.ts', 'b.ts', 'h.ts']);
});

t.test('node_modules, bare and node: specifiers are not hashed', async (t) => {
  const dir = tempTree({
    'h.ts': `import 'yaml'; import 'node:fs'; import './node_modules/dep/index.js'; import '../x/node_modules/y';`,
    'node_modules/dep/index.js': 'export {}',
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const g = graphOf(dir, 'h.ts');
  t.same(rel(dir, g.files), ['h.ts']);
  t.same(Object.keys(g.hashes), [join(dir, 'h.ts')]);
});

t.test('absolute, file: URL and query-suffixed specifiers resolve to the same files', async (t) => {
  const dir = tempTree({ 'a.ts': '', 'b.ts': '', 'c.ts': '' });
  writeTree(dir, {
    'h.ts': `import '${join(dir, 'a.ts')}'; import '${pathToFileURL(join(dir, 'b.ts')).href}'; import './c.ts?v=2';`,
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.same(rel(dir, graphOf(dir, 'h.ts').files), ['a.ts', 'b.ts', 'c.ts', 'h.ts']);
});

t.test('a local import that resolves to nothing is recorded as missing', async (t) => {
  const dir = tempTree({ 'h.ts': `import './gone';` });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const g = graphOf(dir, 'h.ts');
  t.same(rel(dir, g.files), ['h.ts']);
  t.equal(g.hashes[join(dir, 'gone')], MISSING);
});

t.test('the TypeScript source wins over a compiled .js beside it', async (t) => {
  const dir = tempTree({ 'h.ts': `import './m';`, 'm.ts': '', 'm.js': '' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.same(rel(dir, graphOf(dir, 'h.ts').files), ['h.ts', 'm.ts']);
});

t.test('an existing .js file is taken as written', async (t) => {
  const dir = tempTree({ 'h.js': `import './m.js';`, 'm.ts': '', 'm.js': '' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.same(rel(dir, graphOf(dir, 'h.js').files), ['h.js', 'm.js']);
});

t.test('content hashes change with content and only for the edited file', async (t) => {
  const dir = tempTree({ 'h.ts': `import './lib';`, 'lib.ts': 'export const v = 1;' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const before = graphOf(dir, 'h.ts').hashes;
  writeTree(dir, { 'lib.ts': 'export const v = 2;' });
  const after = graphOf(dir, 'h.ts').hashes;
  t.equal(before[join(dir, 'h.ts')], after[join(dir, 'h.ts')]);
  t.not(before[join(dir, 'lib.ts')], after[join(dir, 'lib.ts')]);
});

t.test('a shared cache reads each file once across graphs, and async equals sync', async (t) => {
  const dir = tempTree({
    'a.ts': `import './shared/util';`,
    'b.ts': `import './shared/util'; import './shared/other';`,
    'shared/util.ts': `import './other';`,
    'shared/other.ts': '',
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cache = new SourceCache();
  const ga = graphOf(dir, 'a.ts', cache);
  const gb = graphOf(dir, 'b.ts', cache);
  t.equal(cache.reads, 4);
  t.same(rel(dir, gb.files), ['b.ts', 'shared/other.ts', 'shared/util.ts']);
  const asyncA = await runAsync(codeGraph(join(dir, 'a.ts'), new SourceCache()));
  t.same(asyncA, ga);
});
