/**
 * Handle arguments and results cross process boundaries as structured-clone data (v8.serialize).
 * v8.serialize copies a class instance's own fields into a plain object, so a Request or a
 * socket would arrive as a silent `{}`; this check refuses them at the caller instead, with the
 * path of the offending value.
 */

const CLONEABLE_PROTOTYPES = new Set<unknown>([
  Object.prototype, null, Array.prototype, Date.prototype, RegExp.prototype, Map.prototype, Set.prototype,
  ArrayBuffer.prototype, DataView.prototype, Error.prototype, EvalError.prototype, RangeError.prototype,
  ReferenceError.prototype, SyntaxError.prototype, TypeError.prototype, URIError.prototype,
  Boolean.prototype, Number.prototype, String.prototype,
]);

function describe(value: object): string {
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name ? `a ${name}` : 'an object with a custom prototype';
}

/** Throws a TypeError naming `what` and the path when `value` cannot cross as structured clone. */
export function assertCloneable(value: unknown, what: string): void {
  const seen = new Set<object>();
  const visit = (v: unknown, path: string): void => {
    switch (typeof v) {
      case 'function':
        throw new TypeError(`${what}${path} is a function, which cannot cross a process boundary (only structured-clone values can)`);
      case 'symbol':
        throw new TypeError(`${what}${path} is a symbol, which cannot cross a process boundary`);
      case 'object':
        break;
      default:
        return;
    }
    if (v === null || seen.has(v)) return;
    seen.add(v);
    // Typed arrays, Buffers and DataViews clone as bytes.
    if (ArrayBuffer.isView(v)) return;
    let proto = Object.getPrototypeOf(v);
    if (!CLONEABLE_PROTOTYPES.has(proto)) {
      // Subclasses of built-ins (class MyMap extends Map) lose their class: refuse them too,
      // except errors, whose name and message are what matters.
      if (!(v instanceof Error)) {
        throw new TypeError(`${what}${path} is ${describe(v)}, which cannot cross a process boundary (only structured-clone values: plain objects, arrays, Date, Map, Set, typed arrays, BigInt, ...)`);
      }
      proto = Error.prototype;
    }
    if (v instanceof Map) {
      let i = 0;
      for (const [k, val] of v) {
        visit(k, `${path}.<map key ${i}>`);
        visit(val, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : i})`);
        i++;
      }
      return;
    }
    if (v instanceof Set) {
      let i = 0;
      for (const item of v) visit(item, `${path}.<set item ${i++}>`);
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) visit(v[i], `${path}[${i}]`);
      return;
    }
    for (const key of Object.keys(v)) visit((v as Record<string, unknown>)[key], `${path}.${key}`);
  };
  visit(value, '');
}
