import t from 'tap';
import { childPids, isAlive, sleep, startGateway, tempDir } from '../helpers/gateway.ts';

const HANDLER = `
export default class Echo {
  constructor({ args }) { this.name = args?.name ?? 'echo'; }
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/log') { console.log('hello from the handler'); console.error('trouble in the handler'); }
    return { name: this.name, path: url.pathname + url.search, prefix: request.headers.get('x-forwarded-prefix'), rid: request.headers.get('x-request-id') };
  }
}
`;

t.test('routes by longest whole-segment prefix and strips it', async (t) => {
  const dir = tempDir({
    'echo.mjs': HANDLER,
    'serve.yaml': `
applications:
  - name: root
    route_prefix: /
    deployments: [{ name: E, handler: ./echo.mjs, args: { name: root } }]
  - name: api
    route_prefix: /api
    deployments: [{ name: E, handler: ./echo.mjs, args: { name: api } }]
  - name: deep
    route_prefix: /api/v2
    deployments: [{ name: E, handler: ./echo.mjs, args: { name: deep } }]
  - name: hidden
    route_prefix: null
    deployments: [{ name: E, handler: ./echo.mjs }]
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(gw.http + path, { headers });
    return { status: res.status, headers: res.headers, body: await res.json() };
  };
  const cases: Array<[string, string, string, string | null]> = [
    ['/api', 'api', '/', '/api'],
    ['/api/x?q=1', 'api', '/x?q=1', '/api'],
    ['/apix', 'root', '/apix', null],
    ['/api/v2/models', 'deep', '/models', '/api/v2'],
    ['/api/v20', 'api', '/v20', '/api'],
    ['/', 'root', '/', null],
    ['/other/thing', 'root', '/other/thing', null],
  ];
  for (const [path, name, stripped, prefix] of cases) {
    const r = await get(path);
    t.equal(r.status, 200, path);
    t.same({ name: r.body.name, path: r.body.path, prefix: r.body.prefix }, { name, path: stripped, prefix }, path);
  }
  const withId = await get('/api', { 'x-request-id': 'my-id-123' });
  t.equal(withId.headers.get('x-request-id'), 'my-id-123', 'client request id echoed');
  t.equal(withId.body.rid, 'my-id-123', 'and seen by the handler');
  const generated = await get('/api');
  t.match(generated.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
  t.equal(generated.body.rid, generated.headers.get('x-request-id'));

  const routes = await (await fetch(`${gw.http}/-/routes`)).json();
  t.same(routes, { '/api/v2': 'deep', '/api': 'api', '/': 'root' }, 'null prefix not listed');
  t.equal((await fetch(`${gw.http}/-/healthz`)).status, 200);
});

t.test('404 no_route when nothing matches; SIGTERM leaves no replica behind', async (t) => {
  const dir = tempDir({
    'echo.mjs': HANDLER,
    'serve.yaml': `
applications:
  - name: api
    route_prefix: /api
    deployments: [{ name: E, handler: ./echo.mjs, num_replicas: 2 }]
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`);
  await fetch(`${gw.http}/api/log`);
  const ids: string[] = (await gw.status()).applications.api.deployments.E.replicas.map((r: any) => r.replica_id);
  const tagged = (l: string) => ids.some((id) => l.includes(`replica=${id}`));
  // Replica output reaches the gateway's log through two pipes: give it a moment.
  for (let i = 0; i < 40 && !gw.log().includes('trouble in the handler'); i++) await sleep(50);
  const lines = gw.log().split('\n');
  t.ok(lines.some((l) => /INFO +\[replica\] hello from the handler/.test(l) && tagged(l)),
    'handler stdout is logged as info, tagged with the replica id');
  t.ok(lines.some((l) => /WARN +\[replica\] trouble in the handler/.test(l) && tagged(l)),
    'handler stderr is logged as a warning, tagged with the replica id');
  const res = await fetch(`${gw.http}/nope`);
  t.equal(res.status, 404);
  t.same(await res.json(), { error: 'no_route', message: 'No application is routed at /nope.' });
  const replicas = await childPids(gw.child.pid!);
  t.equal(replicas.length, 2, 'two replica processes');
  t.equal(await gw.stop(), 0, 'clean exit');
  await sleep(100);
  t.same(replicas.filter(isAlive), [], 'no replica process left');
});
