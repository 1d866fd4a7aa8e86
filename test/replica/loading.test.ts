import t from 'tap';
import { get, startReady, startReplica } from './replica-harness.ts';
import type { FailedMessage, FromReplica } from '../../src/replica/protocol.ts';

const isFailed = (m: FromReplica): m is FailedMessage => m.t === 'failed';

t.test('a class export is constructed with { args, handles }', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs', args: { x: [1, 2] } });
  t.same(JSON.parse((await get(r, '/args')).text), { x: [1, 2] });
  t.same(JSON.parse((await get(r, '/handles')).text), []);
});

t.test('a plain object export gets init(ctx)', async (t) => {
  const r = await startReady(t, { handler_path: 'plain-object.mjs', args: { greeting: 'hi' } });
  t.equal((await get(r, '/')).text, 'hi from an object');
});

t.test('#Name picks a named export, class or object', async (t) => {
  const a = await startReady(t, { handler_path: 'named.mjs', export_name: 'Alpha' });
  t.equal((await get(a, '/')).text, 'alpha');
  const b = await startReady(t, { handler_path: 'named.mjs', export_name: 'Beta' });
  t.equal((await get(b, '/')).text, 'beta');
});

t.test('a missing export fails import, naming the exports found', async (t) => {
  const r = startReplica(t, { handler_path: 'named.mjs' });
  const m = await r.waitFor(isFailed);
  t.equal(m.phase, 'import');
  t.match(m.error.message, "named.mjs has no default export; its exports are: Alpha, Beta. Export the handler as default or pick one with 'named.mjs#Name'");
  t.equal((await r.exited).code, 1);
  const r2 = startReplica(t, { handler_path: 'named.mjs', export_name: 'Gamma' });
  t.match((await r2.waitFor(isFailed)).error.message, "named.mjs has no export named 'Gamma'; its exports are: Alpha, Beta");
});

t.test('TypeScript runs whole: enums, parameter properties, extensionless imports', async (t) => {
  const r = await startReady(t, { handler_path: 'typed.ts', args: { name: 'ts' } });
  t.same(JSON.parse((await get(r, '/')).text), { name: 'ts', level: 2, mood: 'busy' });
  const m = await startReady(t, { handler_path: 'typed.mts', export_name: 'Named' });
  t.equal((await get(m, '/')).text, 'calm');
});

t.test('a CommonJS module exporting a class', async (t) => {
  const r = await startReady(t, { handler_path: 'common.cjs', args: 7 });
  t.same(JSON.parse((await get(r, '/')).text), { kind: 'cjs', args: 7 });
});

t.test('a constructor that throws sends failed (construct) and exits 1', async (t) => {
  const r = startReplica(t, { handler_path: 'ctor-fails.mjs' });
  const m = await r.waitFor(isFailed);
  t.equal(m.phase, 'construct');
  t.equal(m.error.name, 'Error');
  t.equal(m.error.message, 'cannot load model weights');
  t.match(m.error.stack, /ctor-fails\.mjs/);
  t.same(await r.exited, { code: 1, signal: null });
});

t.test('a missing handler file fails import', async (t) => {
  const r = startReplica(t, { handler_path: 'does-not-exist.mjs' });
  const m = await r.waitFor(isFailed);
  t.equal(m.phase, 'import');
  t.equal((await r.exited).code, 1);
});

t.test('user_config without reconfigure() is a deploy error', async (t) => {
  const r = startReplica(t, { handler_path: 'plain-object.mjs', args: { greeting: 'x' }, has_user_config: true, user_config: { a: 1 } });
  const m = await r.waitFor(isFailed);
  t.equal(m.phase, 'reconfigure');
  t.equal(m.error.message, 'user_config is set but the handler has no reconfigure() method');
  t.equal((await r.exited).code, 1);
});

t.test('user_config is applied by reconfigure() before ready; a throw there fails', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs', has_user_config: true, user_config: { threshold: 0.5 } });
  t.same(JSON.parse((await get(r, '/state')).text).config, { threshold: 0.5 });
  const bad = startReplica(t, { handler_path: 'kinds.mjs', has_user_config: true, user_config: { fail: true } });
  const m = await bad.waitFor(isFailed);
  t.equal(m.phase, 'reconfigure');
  t.equal(m.error.message, 'bad config');
});

t.test('an uncaught exception outside any request is logged and exits 1', async (t) => {
  const r = await startReady(t, { handler_path: 'crash-later.mjs' });
  t.same(await r.exited, { code: 1, signal: null });
  // The line carries its level; the gateway adds the time and the replica id when it forwards it
  // (test/e2e/run-basics.test.ts checks that).
  t.match(r.stderr(), /^ERROR uncaught exception outside any request; exiting: Error: background task exploded/m);
});
