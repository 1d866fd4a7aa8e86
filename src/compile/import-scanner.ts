/**
 * Finds the module specifiers a JavaScript or TypeScript source imports, without a parser.
 *
 * Why not a real parser: none is a dependency (TypeScript is a devDependency only, and tsx's
 * esbuild has no AST API), and the code version only needs the specifiers. A small tokenizer
 * that knows comments, strings, template literals and regular expressions is enough to avoid
 * the classic false positives (an `import` inside a comment or a string).
 *
 * Recognised (a string literal or a template literal without `${}` as the specifier):
 * - `import x from 'm'`, `import { a } from 'm'`, `import type X from 'm'`, `import 'm'`
 * - `export * from 'm'`, `export { a } from 'm'`, `export * as ns from 'm'`
 * - `import('m')` (also with a second options argument), `require('m')`,
 *   TypeScript's `import x = require('m')`
 *
 * Limits (documented, deliberately accepted):
 * - A computed specifier (`import(name)`, `` import(`./${x}`) ``, `require(a + b)`) is not seen,
 *   nor are files the code reaches another way (`new URL('./w.js', import.meta.url)`, `fs`).
 * - Type-only imports are included although they load nothing at runtime: hashing one file too
 *   many restarts a deployment needlessly, one too few would miss a real change.
 * - Regular-expression literals are told from division by the previous token, as most
 *   tokenizers without a parser do; a regex right after a `}` that closes a block is read as
 *   division. Strings end at a line break, so a stray quote in JSX text spoils one line only.
 * - A `require` or `from` that a program defines itself is taken at its word.
 */

/** Keywords after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_WORD = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do',
  'else', 'yield', 'await', 'extends',
]);

type TokenKind = 'word' | 'string' | 'punct' | 'number' | 'regex' | 'template';

interface Token {
  kind: TokenKind;
  value: string;
}

const NONE: Token = { kind: 'punct', value: ';' };

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36 || c === 35 || c >= 128;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Every module specifier the source imports statically, re-exports, `import()`s or `require()`s. */
export function scanImports(source: string): string[] {
  const found: string[] = [];
  const n = source.length;
  // The last five significant tokens: enough for `x import ( 'm' )`-shaped patterns.
  const win: Token[] = [NONE, NONE, NONE, NONE, NONE];
  // One entry per open `{` or `${`, so a `}` knows whether it resumes a template literal.
  const braces: boolean[] = [];
  let i = 0;

  const push = (kind: TokenKind, value: string): void => {
    win.shift();
    win.push({ kind, value });
    match(win, found);
  };

  // Scans template characters from `i` (just after the backtick, or the `}` closing a `${`) up
  // to the closing backtick or the next `${`. A template without substitutions is a string.
  const scanTemplate = (startsLiteral: boolean): void => {
    let text = '';
    while (i < n) {
      const c = source.charCodeAt(i);
      if (c === 92) { text += source[i + 1] ?? ''; i += 2; continue; }
      if (c === 96) {
        i++;
        push(startsLiteral ? 'string' : 'template', text);
        return;
      }
      if (c === 36 && source.charCodeAt(i + 1) === 123) {
        i += 2;
        braces.push(true);
        push('template', '');
        return;
      }
      text += source[i];
      i++;
    }
  };

  if (source.startsWith('#!')) {
    const eol = source.indexOf('\n');
    i = eol < 0 ? n : eol;
  }

  while (i < n) {
    const c = source.charCodeAt(i);
    // Whitespace and line breaks.
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12 || c === 0xfeff || c === 0xa0 || c === 0x2028 || c === 0x2029) { i++; continue; }
    if (c === 47) {
      const next = source.charCodeAt(i + 1);
      if (next === 47) {
        const eol = source.indexOf('\n', i);
        i = eol < 0 ? n : eol;
        continue;
      }
      if (next === 42) {
        const end = source.indexOf('*/', i + 2);
        i = end < 0 ? n : end + 2;
        continue;
      }
      const prev = win[4]!;
      const regexAllowed =
        (prev.kind === 'punct' && prev.value !== ')' && prev.value !== ']' && prev.value !== '}') ||
        (prev.kind === 'word' && REGEX_AFTER_WORD.has(prev.value)) ||
        prev.kind === 'template';
      if (regexAllowed) {
        const end = scanRegex(source, i);
        if (end > 0) {
          push('regex', source.slice(i, end));
          i = end;
          continue;
        }
      }
      push('punct', '/');
      i++;
      continue;
    }
    if (c === 39 || c === 34) {
      let j = i + 1;
      let text = '';
      while (j < n) {
        const d = source.charCodeAt(j);
        if (d === c || d === 10) break;
        if (d === 92) { text += source[j + 1] ?? ''; j += 2; continue; }
        text += source[j];
        j++;
      }
      i = j + 1;
      push('string', text);
      continue;
    }
    if (c === 96) {
      i++;
      scanTemplate(true);
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(source.charCodeAt(j))) j++;
      push('word', source.slice(i, j));
      i = j;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(source.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n && (isIdentPart(source.charCodeAt(j)) || source.charCodeAt(j) === 46)) j++;
      push('number', source.slice(i, j));
      i = j;
      continue;
    }
    if (c === 123) { braces.push(false); push('punct', '{'); i++; continue; }
    if (c === 125) {
      i++;
      if (braces.pop() === true) { scanTemplate(false); continue; }
      push('punct', '}');
      continue;
    }
    push('punct', source[i]!);
    i++;
  }
  return found;
}

/** End index (exclusive) of the regex literal starting at `start`, or -1 if it is not one. */
function scanRegex(source: string, start: number): number {
  let inClass = false;
  for (let j = start + 1; j < source.length; j++) {
    const c = source.charCodeAt(j);
    if (c === 10 || c === 13) return -1;
    if (c === 92) { j++; continue; }
    if (c === 91) inClass = true;
    else if (c === 93) inClass = false;
    else if (c === 47 && !inClass) {
      let k = j + 1;
      while (k < source.length && isIdentPart(source.charCodeAt(k))) k++;
      return k;
    }
  }
  return -1;
}

function is(t: Token | undefined, kind: TokenKind, value?: string): boolean {
  return t !== undefined && t.kind === kind && (value === undefined || t.value === value);
}

/** Checks the newest tokens for an import form and records its specifier. */
function match(w: Token[], found: string[]): void {
  const [t0, t1, t2, t3, t4] = w as [Token, Token, Token, Token, Token];
  // `from 'm'` only occurs in import and export declarations; `import 'm'` is a bare import.
  if (is(t4, 'string') && (is(t3, 'word', 'from') || is(t3, 'word', 'import')) && !is(t2, 'punct', '.')) {
    found.push(t4.value);
    return;
  }
  // `import('m')`, `import('m', opts)`, `require('m')`; not a method call `x.import('m')`.
  if (
    (is(t4, 'punct', ')') || is(t4, 'punct', ',')) && is(t3, 'string') && is(t2, 'punct', '(') &&
    (is(t1, 'word', 'import') || is(t1, 'word', 'require')) && !is(t0, 'punct', '.')
  ) {
    found.push(t3.value);
  }
}
