/**
 * docs/spec.md and schemas/serve.schema.json describe the same fields: every property of the
 * schema has a row in the doc (by its full path, e.g. `applications[].deployments[].env`), every
 * row names a schema property, and defaults and numeric bounds agree.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(root, 'schemas', 'serve.schema.json'), 'utf8')) as Schema;
const doc = readFileSync(join(root, 'docs', 'spec.md'), 'utf8');

interface Schema {
  $ref?: string;
  $defs?: Record<string, Schema>;
  properties?: Record<string, Schema>;
  items?: Schema;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
}

/** A property schema with its local `$ref` merged in; the property's own keywords win. */
function resolved(s: Schema): Schema {
  if (!s.$ref) return s;
  const name = /^#\/\$defs\/(.+)$/.exec(s.$ref)?.[1];
  const target = name === undefined ? undefined : schema.$defs?.[name];
  if (!target) throw new Error(`unresolvable $ref ${s.$ref}`);
  const { $ref: _ref, ...own } = s;
  return { ...resolved(target), ...own };
}

/** Every property of the schema by its documented path. */
function properties(s: Schema, prefix: string, out: Map<string, Schema>): Map<string, Schema> {
  for (const [key, raw] of Object.entries(s.properties ?? {})) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const prop = resolved(raw);
    out.set(path, prop);
    properties(prop, path, out);
    if (prop.items) properties(resolved(prop.items), `${path}[]`, out);
  }
  return out;
}

interface Row { default: string; bounds: string }

/** Table rows whose first cell is a backticked field path. */
function rows(): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const line of doc.split('\n')) {
    const m = /^\| `([a-z_.[\]]+)` \|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const cells = m[2]!.split(' | ').map((c) => c.trim());
    // Cells after the path: type, default, bounds, description.
    out.set(m[1]!, { default: cells[1] ?? '', bounds: cells[2] ?? '' });
  }
  return out;
}

function render(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const schemaProps = properties(schema, '', new Map());
const docRows = rows();

t.test('the schema has properties to check (the walk reached nested ones)', async (t) => {
  t.ok(schemaProps.has('applications[].deployments[].autoscaling_config.min_replicas'));
  t.ok(schemaProps.size > 30, `found ${schemaProps.size} properties`);
});

t.test('every schema property has a row in docs/spec.md', async (t) => {
  for (const path of schemaProps.keys()) t.ok(docRows.has(path), `docs/spec.md documents \`${path}\``);
});

t.test('every row in docs/spec.md is a schema property', async (t) => {
  for (const path of docRows.keys()) t.ok(schemaProps.has(path), `\`${path}\` (in docs/spec.md) is in the schema`);
});

t.test('documented defaults equal the schema defaults', async (t) => {
  for (const [path, prop] of schemaProps) {
    const row = docRows.get(path);
    if (!row) continue;
    if (prop.default === undefined) {
      t.match(row.default, /^—/, `${path}: no default in the schema, so the doc shows "—"`);
    } else {
      t.equal(row.default.replace(/`/g, ''), render(prop.default), `${path}: default`);
    }
  }
});

t.test('documented numeric bounds equal the schema bounds', async (t) => {
  for (const [path, prop] of schemaProps) {
    const row = docRows.get(path);
    if (!row) continue;
    if (prop.minimum !== undefined) t.ok(row.bounds.includes(`>= ${prop.minimum}`), `${path}: bounds say >= ${prop.minimum} (${row.bounds})`);
    if (prop.maximum !== undefined) t.ok(row.bounds.includes(`<= ${prop.maximum}`), `${path}: bounds say <= ${prop.maximum} (${row.bounds})`);
    if (prop.exclusiveMinimum !== undefined) t.ok(row.bounds.includes(`> ${prop.exclusiveMinimum}`), `${path}: bounds say > ${prop.exclusiveMinimum} (${row.bounds})`);
    if (prop.minItems !== undefined) t.ok(row.bounds.includes(`at least ${prop.minItems}`), `${path}: bounds say at least ${prop.minItems} (${row.bounds})`);
  }
});
