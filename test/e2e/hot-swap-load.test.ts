/**
 * Zero-downtime hot swap under load (CONTRACT section 5: "No request sent during an apply
 * fails"): keep-alive request loops run through ten rolling restarts, a user_config apply and a
 * scale up and down, and every single response must be a 200 from a live replica.
 */
import t from 'tap';
import { Agent, request } from 'undici';
import { sleep, startGateway, tempDir } from '../helpers/gateway.ts';
import { admin, pidsOf, settled } from './control-plane-lib.ts';

/** GET loops (body-less: the proxy may retry them on another replica if one refuses)... */
const LOOPS = 4;
/** ...and POST loops with a body, which the proxy can never retry: they prove the drain order itself. */
const POST_LOOPS = 2;

/** A little async work per request, so replicas are mid-request when they are told to drain. */
const HANDLER = `export default class Worker {
  constructor({ args }) { this.version = args.version; this.mode = ''; }
  reconfigure(config) { this.mode = config.mode; }
  async fetch(request) {
    const body = request.method === 'POST' ? await request.text() : '';
    await new Promise((r) => setTimeout(r, 2));
    return this.version + '/' + this.mode + (body ? ' ' + body.length : '');
  }
}
`;

const spec = (version: number, mode: string, replicas: number): string => `applications:
  - name: load
    route_prefix: /
    deployments:
      - name: Worker
        handler: ./worker.mjs
        args: { version: ${version} }
        user_config: { mode: ${mode} }
        num_replicas: ${replicas}
`;

interface Tally {
  ok: number;
  bad: string[];
  bodies: Map<string, number>;
}

t.test('keep-alive GET and POST load through 10 restarts, a reconfigure and a scale up and down: zero non-200', async (t) => {
  const dir = tempDir({ 'worker.mjs': HANDLER, 'serve.yaml': spec(0, 'a', 2) });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const agent = new Agent({ connections: LOOPS + POST_LOOPS, keepAliveTimeout: 4_000 });
  t.teardown(() => agent.close());

  const tally: Tally = { ok: 0, bad: [], bodies: new Map() };
  let running = true;
  const payload = JSON.stringify({ text: 'x'.repeat(200) });
  const loop = async (post: boolean): Promise<void> => {
    while (running) {
      try {
        const res = await request(`${gw.http}/`, {
          dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000,
          ...(post && { method: 'POST', body: payload, headers: { 'content-type': 'application/json' } }),
        });
        const body = await res.body.text();
        if (res.statusCode === 200 && (!post || body.endsWith(` ${payload.length}`))) {
          tally.ok++;
          tally.bodies.set(body, (tally.bodies.get(body) ?? 0) + 1);
        } else {
          tally.bad.push(`${res.statusCode} ${body}`);
        }
      } catch (err) {
        tally.bad.push(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`);
      }
    }
  };
  const loops = [...Array.from({ length: LOOPS }, () => loop(false)), ...Array.from({ length: POST_LOOPS }, () => loop(true))];
  const stopLoops = async () => {
    running = false;
    await Promise.all(loops);
  };
  t.teardown(stopLoops);

  const put = async (yaml: string) => {
    const res = await admin(gw, 'PUT', '/api/serve/applications/', { body: yaml });
    if (res.status !== 200) throw new Error(`apply answered ${res.status}: ${res.text}`);
    return res.json;
  };
  const check = (what: string, before: number) => {
    t.same(tally.bad, [], `${what}: no failed request (${tally.ok - before} answered 200)`);
    t.ok(tally.ok - before > 0, `${what}: requests kept flowing`);
    tally.bad.length = 0;
  };

  await sleep(300);
  let mark = tally.ok;
  let pids = pidsOf(await gw.status(), 'load', 'Worker');
  for (let version = 1; version <= 10; version++) {
    const plan = await put(spec(version, 'a', 2));
    t.equal(plan.applications[0].deployments[0].action, 'restart');
    const old = pids;
    const s = await gw.waitFor((s) => settled(s, 'load') && pidsOf(s, 'load', 'Worker').every((p) => !old.includes(p)), 30_000, `restart ${version} rolled out`);
    pids = pidsOf(s, 'load', 'Worker');
  }
  check('10 rolling restarts', mark);
  t.ok((tally.bodies.get('10/a') ?? 0) > 0, 'the last version answered');

  mark = tally.ok;
  const plan = await put(spec(10, 'b', 2));
  t.equal(plan.applications[0].deployments[0].action, 'reconfigure');
  await gw.waitFor((s) => settled(s, 'load'), 20_000, 'reconfigure done');
  const seenB = tally.bodies.get('10/b') ?? 0;
  await sleep(300);
  t.ok((tally.bodies.get('10/b') ?? 0) > seenB, 'the new user_config serves');
  t.same(pidsOf(await gw.status(), 'load', 'Worker'), pids, 'reconfigure restarted nothing');
  check('user_config apply', mark);

  mark = tally.ok;
  t.equal((await put(spec(10, 'b', 4))).applications[0].deployments[0].action, 'scale');
  const up = await gw.waitFor((s) => settled(s, 'load') && pidsOf(s, 'load', 'Worker').length === 4, 20_000, 'scaled to 4');
  t.ok(pids.every((p) => pidsOf(up, 'load', 'Worker').includes(p)), 'scaling up kept the running replicas');
  await sleep(300);
  t.equal((await put(spec(10, 'b', 2))).applications[0].deployments[0].action, 'scale');
  await gw.waitFor((s) => settled(s, 'load') && pidsOf(s, 'load', 'Worker').length === 2, 20_000, 'scaled to 2');
  await sleep(300);
  check('scale 2 -> 4 -> 2', mark);

  await stopLoops();
  t.comment(`${tally.ok} requests answered 200 over ${LOOPS} GET and ${POST_LOOPS} POST keep-alive loops`);
});
