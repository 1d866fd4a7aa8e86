import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { RpcConnection, RpcTransportError } from '../../src/handle/rpc-client.ts';
import { rpcSocketPath } from '../../src/replica/protocol.ts';
import { CREDIT_CHUNKS, FrameReader, FrameWriter, RPC } from '../../src/replica/rpc-frames.ts';

interface Teardown { teardown(fn: () => unknown): void }

interface Fake {
  readonly socketPath: string;
  /** Frames the fake replica received, with the connection and writer they came on. */
  readonly frames: { type: number; id: number; payload: Buffer; writer: FrameWriter; socket: Socket }[];
  connections: number;
  next(match: (f: Fake['frames'][number]) => boolean): Promise<Fake['frames'][number]>;
}

/** An in-process stand-in for a replica's handle-call socket, scripted by each test. */
async function fakeReplica(t: Teardown): Promise<Fake> {
  const dir = mkdtempSync(join(tmpdir(), 'swy-rpc-'));
  const socketPath = join(dir, 'r.sock');
  const waiters = new Set<() => void>();
  const fake: Fake = {
    socketPath,
    frames: [],
    connections: 0,
    next: (match) => new Promise((resolve, reject) => {
      const check = () => {
        const f = fake.frames.find(match);
        if (f === undefined) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(f);
        return true;
      };
      const timer = setTimeout(() => { waiters.delete(check); reject(new Error('no matching frame within 3 s')); }, 3_000);
      if (!check()) waiters.add(check);
    }),
  };
  const server: Server = createServer((socket) => {
    fake.connections++;
    const writer = new FrameWriter(socket);
    const reader = new FrameReader((type, id, payload) => {
      fake.frames.push({ type, id, payload: Buffer.from(payload), writer, socket });
      for (const w of [...waiters]) w();
    });
    socket.on('data', (c: Buffer) => reader.push(c));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(rpcSocketPath(socketPath), resolve));
  t.teardown(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return fake;
}


t.test('calls are multiplexed on one connection and matched to their answers by id', async (t) => {
  const fake = await fakeReplica(t);
  const conn = new RpcConnection(fake.socketPath, () => {});
  t.teardown(() => conn.destroy());
  const a = conn.call(serialize(['a']), undefined);
  const b = conn.call(serialize(['b']), undefined);
  const fa = await fake.next((f) => f.type === RPC.CALL && (deserialize(f.payload) as string[])[0] === 'a');
  const fb = await fake.next((f) => f.type === RPC.CALL && (deserialize(f.payload) as string[])[0] === 'b');
  fb.writer.write(RPC.VALUE, fb.id, serialize('B'));
  fa.writer.write(RPC.ERROR, fa.id, serialize({ name: 'E', message: 'm' }));
  const rb = await b;
  const ra = await a;
  t.same(rb.kind === 'value' && deserialize(rb.payload), 'B');
  t.same(ra.kind === 'error' && deserialize(ra.payload), { name: 'E', message: 'm' });
  t.equal(fake.connections, 1, 'one connection');
});

t.test('a replica that is not listening: the call is unsent (another replica may take it)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-rpc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conn = new RpcConnection(join(dir, 'gone.sock'), () => {});
  const err = await conn.call(serialize([]), undefined).catch((e: unknown) => e);
  t.ok(err instanceof RpcTransportError);
  t.equal((err as RpcTransportError).unsent, true);
  t.equal((err as RpcTransportError).code, 'ENOENT');
});

t.test('a replica that dies during a call: the call failed, not unsent', async (t) => {
  const fake = await fakeReplica(t);
  const conn = new RpcConnection(fake.socketPath, () => {});
  const pending = conn.call(serialize([]), undefined);
  const f = await fake.next((x) => x.type === RPC.CALL);
  f.socket.destroy();
  const err = await pending.catch((e: unknown) => e);
  t.ok(err instanceof RpcTransportError);
  t.equal((err as RpcTransportError).unsent, false);
  t.equal(conn.closed, true);
});

t.test('an aborted signal rejects with its reason and sends CANCEL', async (t) => {
  const fake = await fakeReplica(t);
  const conn = new RpcConnection(fake.socketPath, () => {});
  t.teardown(() => conn.destroy());
  const ac = new AbortController();
  const pending = conn.call(serialize([]), ac.signal);
  const f = await fake.next((x) => x.type === RPC.CALL);
  ac.abort(new Error('client left'));
  await t.rejects(pending, { message: 'client left' });
  await fake.next((x) => x.type === RPC.CANCEL && x.id === f.id);
  t.pass('CANCEL sent for the call');
});

t.test('a stream yields its chunks in order, grants credit as it is read, and ends', async (t) => {
  const fake = await fakeReplica(t);
  const conn = new RpcConnection(fake.socketPath, () => {});
  t.teardown(() => conn.destroy());
  const pending = conn.call(serialize([]), undefined);
  const f = await fake.next((x) => x.type === RPC.CALL);
  f.writer.write(RPC.STREAM, f.id);
  for (let i = 0; i < CREDIT_CHUNKS; i++) f.writer.write(RPC.CHUNK, f.id, serialize(i));
  const reply = await pending;
  if (reply.kind !== 'stream') throw new Error(`expected a stream, got ${reply.kind}`);
  const got: unknown[] = [];
  for (let i = 0; i < CREDIT_CHUNKS; i++) got.push((await reply.stream.next())!);
  t.same(got, Array.from({ length: CREDIT_CHUNKS }, (_, i) => ({ type: 'chunk', value: i })));
  await fake.next((x) => x.type === RPC.CREDIT && x.id === f.id);
  t.pass(`a CREDIT after ${CREDIT_CHUNKS} chunks read`);
  f.writer.write(RPC.STREAM_ERROR, f.id, serialize({ name: 'RangeError', message: 'broke' }));
  t.same(await reply.stream.next(), { type: 'error', error: { name: 'RangeError', message: 'broke' } });
});
