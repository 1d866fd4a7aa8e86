/**
 * Runs examples/streaming as a user would (`switchyard run examples/streaming/serve.yaml`): the
 * ingress streams server-sent events from TokenGenerator's async generator through a handle.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { ROOT, sleep, startGateway } from '../helpers/gateway.ts';

const SPEC = join(ROOT, 'examples/streaming/serve.yaml');
// The example's token_interval_ms: the gap the generator leaves between two tokens.
const INTERVAL_MS = 60;

interface Stats { active: number; completed: number; cancelled: number; tokens: number }

t.test('the streaming example serves SSE token by token and stops the generator when the client leaves', async (t) => {
  const gw = await startGateway(SPEC);
  t.teardown(() => gw.stop());
  const stats = async (): Promise<Stats> => {
    const res = await fetch(`${gw.http}/chat/stats`, { signal: AbortSignal.timeout(5_000) });
    t.equal(res.status, 200, 'stats status');
    return (await res.json()) as Stats;
  };

  const empty = await fetch(`${gw.http}/chat`, { signal: AbortSignal.timeout(5_000) });
  t.equal(empty.status, 400, 'a request without a prompt is a 400');
  t.equal((await empty.json()).error, 'empty_prompt');

  // Each event is timed when it arrives: they must come as the generator yields them.
  const started = Date.now();
  const res = await fetch(`${gw.http}/chat?prompt=hello%20there&max_tokens=6`, { signal: AbortSignal.timeout(10_000) });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/event-stream/, 'served as server-sent events');
  const events: Array<{ at: number; data: string }> = [];
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of res.body!) {
    pending += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      t.match(event, /^data: /, `event ${events.length} is a data event`);
      events.push({ at: Date.now() - started, data: event.slice('data: '.length) });
    }
  }
  t.equal(pending, '', 'the stream ends on an event boundary');
  t.equal(events.at(-1)?.data, '[DONE]', 'the last event is [DONE]');
  const tokens = events.slice(0, -1).map((e) => JSON.parse(e.data) as { index: number; token: string });
  t.same(tokens.map((x) => x.index), [0, 1, 2, 3, 4, 5], 'one event per token, in order');
  t.equal(tokens.map((x) => x.token).join(''), 'You said: hello there. Switchyard streams', 'the tokens make the reply');
  // Six tokens INTERVAL_MS apart: buffered delivery would bring them all at once at the end.
  // (One interval, not five: a loaded machine may coalesce some of them, never all.)
  const spread = events.at(-1)!.at - events[0]!.at;
  t.ok(spread >= INTERVAL_MS, `events arrived incrementally (first to last: ${spread} ms)`);
  const before = await stats();
  t.equal(before.completed, 1, 'the finished stream counts as completed');
  t.equal(before.cancelled, 0);

  // A client that goes away after three events: the generator must be returned, not run on.
  const received = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no events from /chat\n${gw.log()}`)), 10_000);
    const req = request(`${gw.http}/chat?prompt=bye`, (r) => {
      let seen = 0;
      r.setEncoding('utf8').on('data', (s: string) => {
        seen += s.split('\n\n').length - 1;
        if (seen >= 3) {
          clearTimeout(timer);
          req.destroy();
          resolve(seen);
        }
      });
    });
    req.on('error', () => {});
    req.end();
  });
  let after: Stats = before;
  for (let i = 0; i < 60 && after.cancelled === 0; i++) {
    await sleep(50);
    after = await stats();
  }
  t.equal(after.cancelled, 1, `the generator's finally ran (client left after ${received} events)`);
  t.equal(after.active, 0, 'no stream is still being generated');
  t.match(gw.log(), /stream \S+ cancelled after \d+ of 40 tokens/, 'the generator logged its cancellation');
  // Stopped for good: no token is produced after the cancellation.
  await sleep(4 * INTERVAL_MS);
  t.equal((await stats()).tokens, after.tokens, 'no tokens are generated after the client left');
  t.ok(after.tokens - before.tokens < 40, `the cancelled stream produced ${after.tokens - before.tokens} of 40 tokens`);
});
