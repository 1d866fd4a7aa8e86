import t from 'tap';
import { scanImports } from '../../src/compile/import-scanner.ts';

const cases: Array<[string, string, string[]]> = [
  ['default import', `import x from './a'`, ['./a']],
  ['named import over lines', `import {\n  a,\n  b,\n} from "./b.js";`, ['./b.js']],
  ['namespace import', `import * as ns from './c'`, ['./c']],
  ['type-only import', `import type { T } from './types.ts'`, ['./types.ts']],
  ['side-effect import', `import './side';`, ['./side']],
  ['import attributes', `import data from './d.json' with { type: 'json' }`, ['./d.json']],
  ['export star', `export * from './e'`, ['./e']],
  ['export star as', `export * as e from './e2'`, ['./e2']],
  ['export named from', `export { a, b as c } from './f'`, ['./f']],
  ['export declaration is not an import', `export const from = 'x'; export default 'y';`, []],
  ['dynamic import', `const m = await import('./g');`, ['./g']],
  ['dynamic import with options', `await import('./g2', { with: { type: 'json' } })`, ['./g2']],
  ['dynamic import with template literal', 'await import(`./h`)', ['./h']],
  ['dynamic import with substitution is skipped', 'await import(`./h${n}`)', []],
  ['computed dynamic import is skipped', 'await import(name)', []],
  ['require', `const x = require('./i')`, ['./i']],
  ['TypeScript import-equals', `import fs = require('./j');`, ['./j']],
  ['method named import is not an import', `loader.import('./k'); obj.require('./k2')`, []],
  ['import.meta is not an import', `const u = import.meta.url; const s = 'from';`, []],
  ['line comment', `// import x from './nope'\nimport y from './yes'`, ['./yes']],
  ['block comment', `/* import x from './nope';\n require('./nope2') */ require('./yes')`, ['./yes']],
  ['string containing import', `const s = "import x from './nope'"; const t2 = 'require("./nope")';`, []],
  ['template containing import', "const s = `import x from './nope' ${1 + 2} require('./nope2')`;", []],
  ['template substitution holds a real import', 'const s = `a ${await import("./yes")} b`;', ['./yes']],
  ['nested braces in substitution', 'const s = `${ {a: 1}.a } ${`${"x"}`}`; import "./after"', ['./after']],
  ['regex containing import', `const r = /import x from '.\\/nope'/g; require('./yes')`, ['./yes']],
  ['regex with slash in class', `const r = /[/'"]/; import './yes'`, ['./yes']],
  ['division is not a regex', `const a = b / 2; const c = d / e; import './yes'`, ['./yes']],
  ['regex after return', `function f() { return /'/.test(x) } import './yes'`, ['./yes']],
  ['escaped quote in string', `const s = 'it\\'s import("./nope")'; import './yes'`, ['./yes']],
  ['hashbang', `#!/usr/bin/env node\nimport './yes'`, ['./yes']],
  ['bare and builtin specifiers are reported too', `import a from 'yaml'; import b from 'node:fs'`, ['yaml', 'node:fs']],
  ['unterminated string ends at the line', `const s = 'oops\nimport './yes'`, ['./yes']],
  ['private name is not require', `class A { #require(x) {} f() { this.#require('./nope') } }`, []],
];

for (const [name, source, expected] of cases) {
  t.test(name, async (t) => {
    t.same(scanImports(source), expected);
  });
}
