import t from 'tap';
import { buildRoutes, matchRoute } from '../../src/compile/route-table.ts';
import type { ApplicationPlan } from '../../src/compile/types.ts';

function app(name: string, route_prefix: string | null): ApplicationPlan {
  return { name, route_prefix, ingress: `${name}#Ingress`, deployments: [] };
}

const routes = buildRoutes([
  app('root', '/'),
  app('api', '/api'),
  app('hidden', null),
  app('apiv2', '/api/v2'),
  app('text', '/text'),
]);

t.test('routes are longest prefix first and leave out apps with a null prefix', async (t) => {
  t.same(routes.map((r) => r.prefix), ['/api/v2', '/text', '/api', '/']);
  t.same(routes.map((r) => r.app), ['apiv2', 'text', 'api', 'root']);
  t.equal(routes.find((r) => r.app === 'hidden'), undefined);
  t.equal(routes[0]!.ingress, 'apiv2#Ingress');
  t.ok(Object.isFrozen(routes) && Object.isFrozen(routes[0]));
});

const table: Array<[string, string | undefined, string | undefined]> = [
  // path, app, stripped path
  ['/api', 'api', '/'],
  ['/api/', 'api', '/'],
  ['/api/x', 'api', '/x'],
  ['/api/x/y?z=1', 'api', '/x/y?z=1'],
  ['/api?q=1', 'api', '/?q=1'],
  ['/apix', 'root', '/apix'],
  ['/api/v2', 'apiv2', '/'],
  ['/api/v2/m', 'apiv2', '/m'],
  ['/api/v2?x', 'apiv2', '/?x'],
  ['/api/v20', 'api', '/v20'],
  ['/text/a', 'text', '/a'],
  ['/text', 'text', '/'],
  ['/tex', 'root', '/tex'],
  ['/', 'root', '/'],
  ['/?q', 'root', '/?q'],
  ['/other/path', 'root', '/other/path'],
  ['*', undefined, undefined],
  ['', undefined, undefined],
];

for (const [path, appName, stripped] of table) {
  t.test(`${JSON.stringify(path)} routes to ${appName ?? 'nothing'}`, async (t) => {
    const m = matchRoute(routes, path);
    t.equal(m?.route.app, appName);
    t.equal(m?.strippedPath, stripped);
  });
}

t.test('without a / route, unmatched paths match nothing', async (t) => {
  const only = buildRoutes([app('api', '/api'), app('hidden', null)]);
  t.equal(matchRoute(only, '/apix'), undefined);
  t.equal(matchRoute(only, '/'), undefined);
  t.equal(matchRoute(only, '/ap'), undefined);
  t.equal(matchRoute(only, '/api/x')?.strippedPath, '/x');
});

t.test('no routes match nothing', async (t) => {
  t.equal(matchRoute([], '/x'), undefined);
});

t.test('a path under / is handed on unchanged (same string)', async (t) => {
  const path = '/some/long/path?with=query';
  t.equal(matchRoute(routes, path)?.strippedPath, path);
});

t.test('prefixes of the same length ending in the same char are told apart', async (t) => {
  const same = buildRoutes([app('abc', '/abc'), app('xbc', '/xbc'), app('ab', '/a/c')]);
  t.equal(matchRoute(same, '/xbc/1')?.route.app, 'xbc');
  t.equal(matchRoute(same, '/abc')?.route.app, 'abc');
  t.equal(matchRoute(same, '/a/c?z')?.route.app, 'ab');
  t.equal(matchRoute(same, '/a/c?z')?.strippedPath, '/?z');
  t.equal(matchRoute(same, '/zbc'), undefined);
});

t.test('many routes: every app is found under its own prefix, and its neighbours are not confused', async (t) => {
  const many = buildRoutes(Array.from({ length: 120 }, (_, i) => app(`app${i}`, `/app${i}`)));
  const apps = Array.from({ length: 120 }, (_, i) => `app${i}`);
  t.same(apps.map((name, i) => matchRoute(many, `/${name}/x?i=${i}`)?.route.app), apps);
  t.same(apps.map((name) => matchRoute(many, `/${name}`)?.strippedPath), apps.map(() => '/'));
  t.equal(matchRoute(many, '/app120'), undefined);
  t.equal(matchRoute(many, '/app1x'), undefined);
});
