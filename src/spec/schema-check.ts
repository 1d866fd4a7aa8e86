/**
 * Checks a parsed spec against `schemas/serve.schema.json` with ajv, fills the schema's defaults
 * in place, and turns ajv's errors into SpecProblems that a person can act on:
 * `must be an integer >= 0 or "auto"` rather than ajv's three errors for one `oneOf`.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { unknownKeyMessage } from './hints.ts';
import type { SourceMap } from './parse-yaml.ts';
import { formatPath, pointerToSegments, type PathSegment } from './paths.ts';
import { routePrefixProblem } from './route-prefix.ts';
import type { SpecProblem } from './types.ts';

type SchemaNode = Record<string, unknown>;

let cachedSchema: SchemaNode | undefined;
let cachedValidator: ValidateFunction | undefined;

/** The published JSON Schema of `serve.yaml`, as parsed JSON (read once). */
export function serveSchema(): SchemaNode {
  // src/spec/ and dist/spec/ both sit two levels below the package root, beside schemas/.
  cachedSchema ??= JSON.parse(readFileSync(new URL('../../schemas/serve.schema.json', import.meta.url), 'utf8')) as SchemaNode;
  return cachedSchema;
}

/**
 * Validates `data` and fills defaults into it (it is mutated: pass a private copy).
 * Returns the problems found, every one of them (`allErrors`).
 */
export function checkSchema(data: unknown, sourceMap: SourceMap, file: string): SpecProblem[] {
  const validate = validator();
  if (validate(data)) return [];
  return translate(validate.errors ?? [], data, sourceMap, file);
}

function validator(): ValidateFunction {
  if (cachedValidator) return cachedValidator;
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, allowUnionTypes: true, strict: true });
  // Editor annotations (VS Code / yaml-language-server read them); messages here read them too.
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  cachedValidator = ajv.compile(validationSchema(serveSchema()));
  return cachedValidator;
}

/**
 * The published schema minus the defaults the loader applies itself: num_replicas (whose
 * default depends on whether autoscaling_config is given) and the autoscaling fields (whose
 * defaults depend on num_replicas: see defaults.ts).
 */
function validationSchema(published: SchemaNode): SchemaNode {
  const copy = structuredClone(published) as { $defs: Record<string, { properties: Record<string, SchemaNode> }> };
  delete copy.$defs.deployment!.properties.num_replicas!.default;
  for (const field of Object.values(copy.$defs.autoscaling_config!.properties)) delete field.default;
  return copy as unknown as SchemaNode;
}

function translate(errors: readonly ErrorObject[], data: unknown, sourceMap: SourceMap, file: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const problem = (segments: PathSegment[], which: 'key' | 'value', message: string): void => {
    problems.push({ file, ...sourceMap.locate(segments, which), path: formatPath(segments), message });
  };
  // Errors about one value (type, bounds, oneOf branches...) are grouped and told once.
  const byValue = new Map<string, ErrorObject[]>();

  for (const e of errors) {
    // ajv repeats a propertyNames failure as the inner keyword's error; the outer one suffices.
    if (e.propertyName !== undefined) continue;
    const segments = pointerToSegments(e.instancePath, data);
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        const allowed = Object.keys((e.parentSchema?.properties as SchemaNode | undefined) ?? {});
        problem([...segments, key], 'key', unknownKeyMessage(key, allowed));
        break;
      }
      case 'required': {
        const key = String((e.params as { missingProperty: string }).missingProperty);
        // A missing key has no position of its own: point at the mapping that lacks it.
        problems.push({ file, ...sourceMap.locate(segments, 'value'), path: formatPath([...segments, key]), message: `missing required key "${key}"` });
        break;
      }
      case 'propertyNames': {
        const key = String((e.params as { propertyName: string }).propertyName);
        const rule = (e.schema as SchemaNode).patternErrorMessage ?? 'is not allowed';
        problem([...segments, key], 'key', `key "${key}" ${String(rule)}`);
        break;
      }
      default: {
        const list = byValue.get(e.instancePath) ?? [];
        list.push(e);
        byValue.set(e.instancePath, list);
      }
    }
  }

  for (const [pointer, group] of byValue) {
    const segments = pointerToSegments(pointer, data);
    problem(segments, 'value', valueMessage(group, segments));
  }
  return problems;
}

/** One message for everything wrong with one value. */
function valueMessage(group: readonly ErrorObject[], segments: readonly PathSegment[]): string {
  // The error with the shortest schema path comes from the schema of the value as a whole
  // (the oneOf, not one of its branches).
  const outer = group.reduce((a, b) => (b.schemaPath.length < a.schemaPath.length ? b : a));
  const schema = (outer.parentSchema ?? {}) as SchemaNode;
  const value = outer.data;
  if (typeof schema.errorMessage === 'string') return schema.errorMessage;
  if (group.every((e) => e.keyword === 'pattern') && typeof value === 'string') {
    if (segments.at(-1) === 'route_prefix') {
      const specific = routePrefixProblem(value);
      if (specific !== undefined) return specific;
    }
    if (typeof schema.patternErrorMessage === 'string') return schema.patternErrorMessage;
  }
  return `must be ${describe(schema)}${typeHint(schema, value)}`;
}

/** A schema as a noun phrase: `an integer >= 0 or "auto"`, `a number > 0`, `a mapping`. */
export function describe(schema: SchemaNode): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const alternatives = (schema.oneOf ?? schema.anyOf) as SchemaNode[] | undefined;
  if (Array.isArray(alternatives)) return alternatives.map((s) => describe(s)).join(' or ');
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
  if (types.length === 0) return 'a valid value';
  return types.map((t) => describeType(t, schema)).join(' or ');
}

function describeType(type: string, schema: SchemaNode): string {
  switch (type) {
    case 'integer':
      return `an integer${range(schema)}`;
    case 'number':
      return `a number${range(schema)}`;
    case 'string':
      return typeof schema.minLength === 'number' && schema.minLength > 0 ? 'a non-empty string' : 'a string';
    case 'object':
      return 'a mapping';
    case 'array':
      return typeof schema.minItems === 'number' && schema.minItems > 0 ? 'a non-empty list' : 'a list';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    default:
      return type;
  }
}

function range(schema: SchemaNode): string {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = schema as Record<string, number | undefined>;
  if (minimum !== undefined && maximum !== undefined) return ` from ${minimum} to ${maximum}`;
  const parts: string[] = [];
  if (minimum !== undefined) parts.push(`>= ${minimum}`);
  if (exclusiveMinimum !== undefined) parts.push(`> ${exclusiveMinimum}`);
  if (maximum !== undefined) parts.push(`<= ${maximum}`);
  if (exclusiveMaximum !== undefined) parts.push(`< ${exclusiveMaximum}`);
  return parts.length > 0 ? ` ${parts.join(' and ')}` : '';
}

/** The usual YAML slips: a bare `1` or `true` where a string is wanted, a quoted number. */
function typeHint(schema: SchemaNode, value: unknown): string {
  const wantsString = schema.type === 'string';
  if (wantsString && (typeof value === 'number' || typeof value === 'boolean')) return ` (quote it: "${String(value)}")`;
  const wantsNumber = schema.type === 'integer' || schema.type === 'number';
  if (wantsNumber && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return ' (remove the quotes)';
  return '';
}

