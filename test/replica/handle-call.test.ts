import t from 'tap';
import { connect, type Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import { rpcSocketPath } from '../../src/replica/protocol.ts';
import { FrameReader, FrameWriter, RPC, STREAM_WINDOW } from '../../src/replica/rpc-frames.ts';
import { get, startReady, type Replica } from './replica-harness.ts';

/** A raw connection to a replica's handle-call socket, one frame at a time. */
interface Conn {
  readonly socket: Socket;
  readonly writer: FrameWriter;
  /** Every frame received so far, in order. */
  readonly frames: { type: number; id: number; payload: Buffer }[];
  /** Resolves with the first frame (already received or future) matching. */
  next(match: (f: { type: number; id: number; payload: Buffer }) => boolean, ms?: number): Promise<{ type: number; id: number; payload: Buffer }>;
}

async function open(t: { teardown(fn: () => unknown): void }, r: Replica): Promise<Conn> {
  const socket = connect(rpcSocketPath(r.socketPath));
  t.teardown(() => { socket.destroy(); });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const frames: Conn['frames'] = [];
  const waiters = new Set<() => void>();
  const reader = new FrameReader((type, id, payload) => {
    frames.push({ type, id, payload: Buffer.from(payload) });
    for (const w of [...waiters]) w();
  });
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  const next: Conn['next'] = (match, ms = 5_000) => new Promise((resolve, reject) => {
    const check = () => {
      const found = frames.find(match);
      if (found === undefined) return false;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(found);
      return true;
    };
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no matching frame within ${ms} ms; stderr: ${r.stderr()}`)); }, ms);
    if (!check()) waiters.add(check);
  });
  return { socket, writer: new FrameWriter(socket), frames, next };
}

let ids = 0;
const FINAL = new Set<number>([RPC.VALUE, RPC.ERROR, RPC.END, RPC.STREAM_ERROR, RPC.REJECTED]);
const KIND: Record<number, string> = { [RPC.VALUE]: 'value', [RPC.ERROR]: 'error', [RPC.END]: 'stream', [RPC.STREAM_ERROR]: 'stream', [RPC.REJECTED]: 'rejected' };

/** One CALL on `conn`, read to its final frame: the kind, the value (or error), and a stream's frames. */
async function call(conn: Conn, method: string, args: unknown[], opts: { requestId?: string; modelId?: string } = {}) {
  const id = ++ids;
  conn.writer.write(RPC.CALL, id, serialize([method, opts.requestId ?? '', opts.modelId ?? '', args]));
  const last = await conn.next((f) => f.id === id && FINAL.has(f.type));
  const mine = conn.frames.filter((f) => f.id === id);
  const stream = mine.filter((f) => f.type === RPC.CHUNK || f.type === RPC.STREAM_ERROR).map((f) => ({ type: f.type, value: deserialize(f.payload) }));
  const started = mine.some((f) => f.type === RPC.STREAM);
  const value = last.type === RPC.VALUE || last.type === RPC.ERROR ? deserialize(last.payload) : undefined;
  return { kind: started ? 'stream' : KIND[last.type], value, stream };
}

t.test('handle calls (server side)', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs' });
  const conn = await open(t, r);

  t.test('value: structured-clone values round trip', async (t) => {
    const args = [new Date(1700000000000), new Map([['k', 1n]]), 2n ** 70n, new Uint8Array([9, 8]), { nested: [1, 'x'] }];
    const res = await call(conn, 'echo', args);
    t.equal(res.kind, 'value');
    t.same(res.value, args);
    const back = res.value as unknown[];
    t.ok(back[0] instanceof Date);
    t.ok(back[1] instanceof Map);
    t.equal(typeof back[2], 'bigint');
    t.ok(back[3] instanceof Uint8Array);
  });

  t.test('calls on one connection are multiplexed: a slow call does not hold up a fast one', async (t) => {
    const slow = call(conn, 'slowCall', [300]);
    const started = Date.now();
    const fast = await call(conn, 'echo', ['fast']);
    t.same(fast.value, ['fast']);
    t.ok(Date.now() - started < 250, 'the fast call answered before the slow one');
    t.equal((await slow).value, 'slow');
  });

  t.test('stream: an async generator sends one frame per chunk', async (t) => {
    const res = await call(conn, 'count', [3]);
    t.equal(res.kind, 'stream');
    t.same(res.stream, [0, 1, 2].map((value) => ({ type: RPC.CHUNK, value })));
  });

  t.test('stream: an error mid-stream ends with a STREAM_ERROR frame', async (t) => {
    const res = await call(conn, 'badStream', []);
    t.equal(res.kind, 'stream');
    t.same(res.stream[0], { type: RPC.CHUNK, value: 1 });
    t.equal(res.stream[1]!.type, RPC.STREAM_ERROR);
    t.match(res.stream[1]!.value, { name: 'RangeError', message: 'stream broke' });
  });

  t.test('error: a throw keeps name, message and code', async (t) => {
    const res = await call(conn, 'fail', []);
    t.equal(res.kind, 'error');
    const err = res.value as { stack: string };
    t.match(err, { name: 'ModelError', message: 'no such model', code: 'E_MODEL' });
    t.match(err.stack, /kinds\.mjs/);
  });

  t.test('error: a result that cannot be cloned is a TypeError naming the method', async (t) => {
    const res = await call(conn, 'bad', []);
    t.equal(res.kind, 'error');
    const err = res.value as { name: string; message: string };
    t.equal(err.name, 'TypeError');
    t.match(err.message, /^bad\(\) returned a value that cannot cross a process boundary: /);
  });

  t.test('error: unknown, lifecycle and Object methods are refused with the deployment named', async (t) => {
    for (const name of ['nope', 'toString', 'constructor', 'checkHealth', 'fetch', '__proto__']) {
      const res = await call(conn, name, []);
      t.equal(res.kind, 'error', name);
      const err = res.value as { name: string; message: string };
      t.equal(err.name, 'TypeError');
      t.match(err.message, `deployment app#Dep has no method '${name}' that a handle can call`);
    }
  });

  t.test('the request context reaches methods and generator bodies', async (t) => {
    const v = await call(conn, 'contextId', [], { requestId: 'call-7' });
    t.equal(v.value, 'call-7');
    const s = await call(conn, 'contextGen', [], { modelId: 'model-a' });
    t.same(s.stream, [{ type: RPC.CHUNK, value: 'model-a' }]);
  });

  t.test('a caller that goes away returns the generator (its finally runs)', async (t) => {
    const gone = await open(t, r);
    gone.writer.write(RPC.CALL, 1, serialize(['countForever', '', '', []]));
    await gone.next((f) => f.type === RPC.CHUNK);
    gone.socket.destroy();
    t.equal(await finallyRan(r), true);
  });
});

t.test('a stream runs at most STREAM_WINDOW chunks ahead of its caller; CANCEL returns the generator', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs' });
  const conn = await open(t, r);
  conn.writer.write(RPC.CALL, 1, serialize(['countForever', '', '', []]));
  const chunks = () => conn.frames.filter((f) => f.type === RPC.CHUNK).length;
  await conn.next(() => chunks() >= STREAM_WINDOW, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(chunks(), STREAM_WINDOW, 'no chunk beyond the window without credit');
  conn.writer.write(RPC.CREDIT, 1);
  await conn.next(() => chunks() > STREAM_WINDOW);
  t.pass('a CREDIT lets more chunks through');
  conn.writer.write(RPC.CANCEL, 1);
  t.equal(await finallyRan(r), true);
  t.notOk(conn.frames.some((f) => f.type === RPC.END || f.type === RPC.STREAM_ERROR), 'a cancelled call gets no final frame');
});

t.test('at max_ongoing_requests a handle call is refused unread', async (t) => {
  const r = await startReady(t, { handler_path: 'kinds.mjs', max_ongoing_requests: 1 });
  const conn = await open(t, r);
  const busy = call(conn, 'slowCall', [400]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const refused = await call(conn, 'echo', [1]);
  t.equal(refused.kind, 'rejected');
  const plain = await get(r, '/string');
  t.equal(plain.status, 503, 'a body-less proxied request is refused too: the cap is shared');
  t.equal(plain.headers['x-swy-rejected'], '1');
  const withBody = await get(r, '/echo', { method: 'POST', body: 'x' });
  t.equal(withBody.status, 200, 'a proxied request with a body is accepted (the Router caps those)');
  t.equal((await busy).value, 'slow');
  t.equal((await call(conn, 'echo', [2])).kind, 'value', 'accepted again once below the limit');
});

async function finallyRan(r: Replica): Promise<boolean> {
  let state;
  for (let i = 0; i < 100; i++) {
    state = JSON.parse((await get(r, '/state')).text);
    if (state.finallyRan) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return state.finallyRan;
}
