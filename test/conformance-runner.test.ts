/**
 * The conformance runner itself, run against a fake CLI (test/fixtures/conformance/) so that
 * its step kinds, failure reports and cleanup are proven independently of Switchyard.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScenario } from '../conformance/run.ts';
import { subsetMismatches, toLines } from '../conformance/lib/match.ts';
import { parseAddresses } from '../conformance/lib/gateway.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'conformance');
const bin = join(FIXTURES, 'fake-switchyard.mjs');
/** Whether `pid` is still alive (a zombie counts as dead) after a short grace. */
function aliveSoon(pid: number): boolean {
  const deadline = Date.now() + 2_000;
  for (;;) {
    let state: string | undefined;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    } catch {
      return false;
    }
    if (state === 'Z') return false;
    if (Date.now() > deadline) return true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

const scenario = (name: string): string => join(FIXTURES, 'scenarios', name);


t.test('every step kind passes against a conforming CLI', async (t) => {
  const r = await runScenario(scenario('pass'), { bin });
  t.ok(r.ok, JSON.stringify(r, null, 2));
  t.equal(r.steps.length, 14, 'all steps ran');
});

t.test('a replica left behind after stop fails the stop step, and cleanup kills it', async (t) => {
  const r = await runScenario(scenario('leak'), { bin });
  t.notOk(r.ok);
  const stop = r.steps[1];
  t.equal(stop?.ok, false);
  t.match(stop?.error, /processes left after the gateway exited:\n\s+pid \d+: .*setInterval/);
  const pid = Number(/pid (\d+)/.exec(stop?.error ?? '')?.[1]);
  t.notOk(aliveSoon(pid), 'the leaked process was killed by cleanup');
});

t.test('a failed expectation reports the details and stops the scenario there', async (t) => {
  const r = await runScenario(scenario('mismatch'), { bin });
  t.notOk(r.ok);
  t.equal(r.steps.length, 2, 'the step after the failure did not run');
  t.match(r.steps[1]?.error, /status: expected 201, got 200/);
  t.match(r.steps[1]?.error, /body: does not contain "nope"/);
});

t.test('the scenario timeout bounds every step and the gateway is still killed', async (t) => {
  const started = Date.now();
  const r = await runScenario(scenario('hang'), { bin });
  t.notOk(r.ok);
  t.ok(Date.now() - started < 10_000, 'ended near the 1 s scenario timeout, not the 60 s wait');
  t.match(r.steps.at(-1)?.error, /scenario timeout \(1 s\)/);
});

t.test('subset match: objects by key, arrays by element in any order, scalars strictly', async (t) => {
  t.same(subsetMismatches({ a: 1 }, { a: 1, b: 2 }), []);
  t.same(subsetMismatches([{ n: 'y' }, { n: 'x' }], [{ n: 'x', k: 1 }, { n: 'y' }]), []);
  t.equal(subsetMismatches([{ n: 'x' }, { n: 'x' }], [{ n: 'x' }]).length, 1, 'each expected element needs its own actual element');
  t.same(subsetMismatches({ a: { b: 1 } }, { a: { b: 2 } }), ['$.a.b: expected 1, got 2']);
  t.same(subsetMismatches({ a: 1 }, {}), ['$.a: missing (expected 1)']);
  t.equal(subsetMismatches(1, '1').length, 1);
  t.equal(subsetMismatches(null, undefined).length, 1);
});

t.test('output lines: a final newline adds no empty line; empty output is no lines', async (t) => {
  t.same(toLines('a\nb\n'), ['a', 'b']);
  t.same(toLines('a\r\n\nb'), ['a', '', 'b']);
  t.same(toLines(''), []);
});

t.test('bound addresses are read tolerantly from the gateway output', async (t) => {
  t.same(parseAddresses('proxy listening on http://127.0.0.1:8000\nadmin API: http://127.0.0.1:8265/'),
    { http: 'http://127.0.0.1:8000', admin: 'http://127.0.0.1:8265' });
  t.same(parseAddresses('Admin listening at http://0.0.0.0:9000.\nListening on http://[::]:81, ok'),
    { admin: 'http://127.0.0.1:9000', http: 'http://127.0.0.1:81' });
  t.same(parseAddresses('starting http://x:1 (no keyword)\n'), {});
});
