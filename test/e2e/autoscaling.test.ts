import t from 'tap';
import { sleep, startGateway, tempDir } from '../helpers/gateway.ts';

// A /block request holds its replica for ?ms, so the load is exactly the open requests.
const BLOCKING = `
export default class Blocking {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/block') { await new Promise((r) => setTimeout(r, Number(url.searchParams.get('ms')))); return 'done'; }
    return 'ok';
  }
}
`;

const running = (s: any, app: string, d: string) =>
  s.applications[app]?.deployments[d]?.replicas.filter((r: any) => r.state === 'RUNNING').length ?? 0;

t.test('scales up under load and back down when it stops', async (t) => {
  const dir = tempDir({
    'blocking.mjs': BLOCKING,
    'serve.yaml': `
applications:
  - name: app
    deployments:
      - name: B
        handler: ./blocking.mjs
        max_ongoing_requests: 1
        autoscaling_config:
          min_replicas: 1
          max_replicas: 4
          target_ongoing_requests: 1
          upscale_delay_s: 0
          downscale_delay_s: 2
          metrics_interval_s: 0.5
          look_back_period_s: 1
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  // Four requests blocked for 6 s: one per replica at most, the rest queue at the proxy.
  const blocked = Array.from({ length: 4 }, () => fetch(`${gw.http}/block?ms=6000`).then((r) => r.text()));
  const up = Date.now();
  await gw.waitFor((s) => running(s, 'app', 'B') >= 3, 15_000, 'at least 3 replicas');
  t.pass(`reached >= 3 replicas in ${Date.now() - up} ms`);
  t.same(await Promise.all(blocked), ['done', 'done', 'done', 'done'], 'every blocked request was served');
  const down = Date.now();
  await gw.waitFor((s) => s.applications.app.deployments.B.target_replicas === 1 && running(s, 'app', 'B') === 1, 20_000, 'back to 1 replica');
  t.pass(`back to 1 replica ${Date.now() - down} ms after the load stopped`);
  await gw.waitFor((s) => s.applications.app.deployments.B.status === 'HEALTHY' && s.applications.app.deployments.B.replicas.length === 1, 10_000, 'HEALTHY once the extra replicas have drained');
});

t.test('scales to zero when idle and the next request wakes it', async (t) => {
  const dir = tempDir({
    'blocking.mjs': BLOCKING,
    'serve.yaml': `
applications:
  - name: app
    deployments:
      - name: B
        handler: ./blocking.mjs
        autoscaling_config:
          min_replicas: 0
          initial_replicas: 1
          max_replicas: 2
          target_ongoing_requests: 1
          downscale_delay_s: 1
          downscale_to_zero_delay_s: 2
          metrics_interval_s: 0.5
          look_back_period_s: 1
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  t.equal((await fetch(`${gw.http}/`)).status, 200);
  await gw.waitFor((s) => s.applications.app.deployments.B.target_replicas === 0 && s.applications.app.deployments.B.replicas.length === 0, 20_000, 'scaled to zero');
  t.pass('scaled to zero');
  const started = Date.now();
  const res = await fetch(`${gw.http}/`);
  t.equal(res.status, 200, 'the request that wakes it gets 200');
  t.equal(await res.text(), 'ok');
  t.pass(`first response from zero in ${Date.now() - started} ms`);
});
