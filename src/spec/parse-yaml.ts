/**
 * YAML text -> plain value plus a map from each path to where its key and value start, so every
 * later check can point at `LINE:COL`. JSON text goes through the same parser (JSON is YAML).
 *
 * Duplicate keys are found here rather than by the yaml package: its error names neither the
 * key's path nor the first occurrence, and we want every duplicate, not the first one only.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { formatPath, type PathSegment } from './paths.ts';
import type { SpecProblem } from './types.ts';

/** 1-based line and column. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** Where a path's key and value start in the source. */
export interface SourceMap {
  /**
   * The position of the key (`'key'`, for unknown and duplicate keys) or of the value
   * (`'value'`) at `path`; a path missing from the source (a default, an alias target)
   * falls back to its nearest ancestor's value.
   */
  locate(path: readonly PathSegment[], which: 'key' | 'value'): Position;
  /** Whether `path` is written in the source (rather than filled in by a default). */
  has(path: readonly PathSegment[]): boolean;
}

export type ParsedYaml =
  | { readonly ok: true; readonly value: unknown; readonly sourceMap: SourceMap; readonly problems: readonly SpecProblem[] }
  | { readonly ok: false; readonly problems: readonly SpecProblem[] };

interface Entry {
  key?: Position;
  value: Position;
}

/**
 * Parses one YAML (or JSON) document. Syntax errors end the parse (`ok: false`), since what
 * follows them has no reliable meaning; duplicate keys are returned as problems alongside the
 * value (the later occurrence wins, as in the value the yaml package builds).
 */
export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };

  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e): SpecProblem => {
      const { line, col } = at(errorOffset(doc, e.code, e.pos[0]));
      return { file, line, col, path: '', message: syntaxMessage(e.code, e.message) };
    });
    return { ok: false, problems };
  }

  const entries = new Map<string, Entry>();
  const problems: SpecProblem[] = [];
  const root = doc.contents;
  entries.set('', { value: root?.range ? at(root.range[0]) : { line: 1, col: 1 } });

  const walk = (node: Node | null, path: PathSegment[]): void => {
    if (node === null || isAlias(node)) return;
    if (isMap(node)) {
      const seen = new Map<string, Position>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        const key = keyText(keyNode);
        const keyPos = keyNode?.range ? at(keyNode.range[0]) : at(node.range?.[0] ?? 0);
        const valueNode = pair.value as Node | null;
        // `key:` with nothing after it: point just past the key, where the value belongs.
        const valuePos = valueNode?.range ? at(valueNode.range[0]) : at(keyNode?.range?.[1] ?? 0);
        const childPath = [...path, key];
        const first = seen.get(key);
        if (first) {
          problems.push({
            file, ...keyPos, path: formatPath(childPath),
            message: `duplicate key "${key}" (first defined at ${first.line}:${first.col})`,
          });
        } else {
          seen.set(key, keyPos);
        }
        entries.set(formatPath(childPath), { key: keyPos, value: valuePos });
        walk(valueNode, childPath);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const itemNode = item as Node | null;
        const pos = itemNode?.range ? at(itemNode.range[0]) : at(node.range?.[0] ?? 0);
        const childPath = [...path, i];
        entries.set(formatPath(childPath), { key: pos, value: pos });
        walk(itemNode, childPath);
      });
    }
  };
  walk(root as Node | null, []);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // The yaml package refuses documents that expand aliases without bound ("billion laughs").
    return { ok: false, problems: [{ file, line: 1, col: 1, path: '', message: `YAML error: ${(err as Error).message}` }] };
  }

  const sourceMap: SourceMap = {
    locate(path, which) {
      for (let n = path.length; n >= 0; n--) {
        const entry = entries.get(formatPath(path.slice(0, n)));
        if (entry) return which === 'key' && n === path.length && entry.key ? entry.key : entry.value;
      }
      return { line: 1, col: 1 };
    },
    has(path) {
      return entries.has(formatPath(path));
    },
  };
  return { ok: true, value, sourceMap, problems };
}

function keyText(node: Node | null): string {
  if (node === null) return '';
  if (isScalar(node)) return String(node.value);
  return String(node);
}

/**
 * Where to point for a syntax error. The yaml package reports an unclosed quote where the text
 * ends; the user needs the opening quote, which is the start of the quoted scalar ending there.
 */
function errorOffset(doc: Document, code: string, offset: number): number {
  if (code !== 'MISSING_CHAR') return offset;
  let start = offset;
  visit(doc, {
    Scalar(_key, node) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      if (quoted && node.range && node.range[1] === offset) start = node.range[0];
    },
  });
  return start;
}

function syntaxMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return `YAML syntax error: a spec is a single YAML document; remove the second '---' document`;
  return `YAML syntax error: ${message}`;
}
