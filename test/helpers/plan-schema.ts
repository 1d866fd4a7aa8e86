/**
 * The Plan JSON Schema (schemas/plan.schema.json) compiled once with ajv, for tests that check
 * real plan answers (`POST /api/serve/plan`, `PUT`, `diff --json`) against it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ROOT } from './gateway.ts';

export const PLAN_SCHEMA = JSON.parse(readFileSync(join(ROOT, 'schemas/plan.schema.json'), 'utf8'));

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(PLAN_SCHEMA);

/** The schema's complaints about `value`, one a line; [] when valid. */
export function planProblems(value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`);
}
