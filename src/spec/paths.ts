/**
 * Paths into a spec document, as problems print them: `applications[0].deployments[1].env.LOG`.
 * One spelling everywhere, so the position map, the schema check and the semantic check agree.
 */

/** One step into the document: a mapping key or a list index. */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `['applications', 0, 'name']` -> `applications[0].name`. Keys that are not plain identifiers
 * are quoted (`env["A.B"]`) so a path always reads back unambiguously; the root is `''`.
 */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/**
 * Turns an ajv instance path (a JSON pointer such as `/applications/0/name`) into segments,
 * walking `data` so that `"0"` is an index only where the value really is a list.
 */
export function pointerToSegments(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) {
      const index = Number(key);
      segments.push(index);
      node = node[index];
    } else {
      segments.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}
