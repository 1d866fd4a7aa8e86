/**
 * The status JSON Schema (schemas/status.schema.json) compiled once with ajv, for tests that
 * check real status answers against it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ROOT } from './gateway.ts';

export const STATUS_SCHEMA = JSON.parse(readFileSync(join(ROOT, 'schemas/status.schema.json'), 'utf8'));

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(STATUS_SCHEMA);

/** The schema's complaints about `value`, one a line (`/applications/x/status: must be ...`); [] when valid. */
export function statusProblems(value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`);
}
