/**
 * docs/errors.md documents exactly the codes of the catalogue (src/errors.ts), each with the
 * catalogue's HTTP status and exit code (fastify keeps its errors doc honest the same way).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERRORS } from '../src/errors.ts';

const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8');

interface DocRow { status: number; exitCode: number; line: number }

/** Rows `| \`code\` | HTTP | Exit | when | what to do |`; a code listed twice is an error. */
function docRows(): { rows: Map<string, DocRow>; duplicates: string[] } {
  const rows = new Map<string, DocRow>();
  const duplicates: string[] = [];
  doc.split('\n').forEach((text, i) => {
    const m = /^\|\s*`([a-z0-9_]+)`\s*\|\s*(\d{3})\s*\|\s*(\d+)\s*\|(.*)\|\s*$/.exec(text);
    if (!m) return;
    if (rows.has(m[1]!)) duplicates.push(m[1]!);
    const cells = m[4]!.split('|').map((c) => c.trim());
    if (cells.length < 2 || cells.some((c) => c === '')) {
      throw new Error(`docs/errors.md:${i + 1}: row for ${m[1]} needs both "when" and "what to do" cells`);
    }
    rows.set(m[1]!, { status: Number(m[2]), exitCode: Number(m[3]), line: i + 1 });
  });
  return { rows, duplicates };
}

const { rows, duplicates } = docRows();
const catalogue = new Map(Object.values(ERRORS).map((e) => [e.code, e]));

t.test('docs/errors.md has a row for every catalogue code', async (t) => {
  for (const code of catalogue.keys()) t.ok(rows.has(code), `\`${code}\` is documented in docs/errors.md`);
});

t.test('docs/errors.md lists no code the catalogue lacks, and none twice', async (t) => {
  for (const [code, row] of rows) t.ok(catalogue.has(code), `docs/errors.md:${row.line}: \`${code}\` is in ERRORS`);
  t.same(duplicates, [], 'no code is listed twice');
});

t.test('documented HTTP status and exit code equal the catalogue', async (t) => {
  for (const [code, def] of catalogue) {
    const row = rows.get(code);
    if (!row) continue;
    t.equal(row.status, def.status, `${code}: HTTP status (docs/errors.md:${row.line})`);
    t.equal(row.exitCode, def.exitCode, `${code}: exit code (docs/errors.md:${row.line})`);
  }
});
