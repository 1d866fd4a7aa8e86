/**
 * The route table: which application an HTTP path belongs to.
 *
 * Built once per Plan and matched on the proxy's hot path for every request, so matching works
 * on char codes of the raw path: no regex, no `split('/')`, no URL parsing, no substring to look
 * up. The only allocations are the result object and, under a prefix other than `/`, the
 * stripped path string. Measured in bench/compile.bench.ts (BENCHMARKS.md): a plain scan of 50
 * prefixes cost about 1 us per request; grouping by length and last char brings it to about
 * 0.2 us.
 *
 * Matching runs on the raw request target (not percent-decoded), so the prefix that is matched
 * is exactly what the replica sees stripped.
 */
import type { ApplicationPlan, Route } from './types.ts';

const SLASH = 47;
const QUESTION = 63;

/** A successful match: the route and the path the ingress sees (prefix removed, query kept). */
export interface RouteMatch {
  readonly route: Route;
  /** Always starts with `/`: `/text/a?q` under `/text` is `/a?q`; `/text` is `/`. */
  readonly strippedPath: string;
}

/**
 * Routes of the exposed applications (route_prefix not null), longest prefix first, so the
 * first whole-segment match is the longest one and `/` (if present) comes last.
 */
export function buildRoutes(applications: readonly ApplicationPlan[]): readonly Route[] {
  const routes: Route[] = [];
  for (const app of applications) {
    if (app.route_prefix === null) continue;
    routes.push(Object.freeze({ prefix: app.route_prefix, app: app.name, ingress: app.ingress }));
  }
  // Stable sort: equal lengths keep spec order (prefixes are unique, so it only fixes output order).
  routes.sort((a, b) => b.prefix.length - a.prefix.length);
  return Object.freeze(routes);
}

/**
 * The match structure for one route list, built once: prefixes grouped by length (longest
 * first), each group keyed by the prefix's last char code. A request then costs, per distinct
 * prefix length, one char-code check for a segment boundary at that length, and only where
 * there is one, a Map lookup and a `startsWith` on the few prefixes ending in the same char.
 */
interface CompiledRoutes {
  readonly groups: ReadonlyArray<{ readonly len: number; readonly byLastChar: ReadonlyMap<number, readonly Route[]> }>;
  readonly root: Route | undefined;
}

/**
 * Keyed by the (frozen, per-Plan) route array, so callers keep passing `plan.routes` and the
 * structure is built on the first request after a Plan change and collected with that Plan.
 */
const compiled = new WeakMap<readonly Route[], CompiledRoutes>();

function compile(routes: readonly Route[]): CompiledRoutes {
  const byLen = new Map<number, Map<number, Route[]>>();
  let root: Route | undefined;
  for (const route of routes) {
    const len = route.prefix.length;
    if (len === 1) {
      root ??= route;
      continue;
    }
    let group = byLen.get(len);
    if (group === undefined) byLen.set(len, (group = new Map()));
    const last = route.prefix.charCodeAt(len - 1);
    const bucket = group.get(last);
    if (bucket === undefined) group.set(last, [route]);
    else bucket.push(route);
  }
  const groups = [...byLen.entries()].sort((a, b) => b[0] - a[0]).map(([len, byLastChar]) => ({ len, byLastChar }));
  const result = { groups, root };
  compiled.set(routes, result);
  return result;
}

/**
 * Longest `route_prefix` match on whole path segments: `/api` matches `/api`, `/api/`,
 * `/api/x` and `/api?q`, never `/apix`; `/` matches every path. `path` is the request target's
 * path and query (`req.url`); one that does not start with `/` matches nothing. `routes` is
 * `Plan.routes` (or any `buildRoutes` result): frozen, since its match structure is cached.
 */
export function matchRoute(routes: readonly Route[], path: string): RouteMatch | undefined {
  if (path.charCodeAt(0) !== SLASH) return undefined;
  const table = compiled.get(routes) ?? compile(routes);
  const pathLen = path.length;
  const groups = table.groups;
  for (let g = 0; g < groups.length; g++) {
    const { len, byLastChar } = groups[g]!;
    if (pathLen < len) continue;
    const boundary = pathLen === len ? -1 : path.charCodeAt(len);
    if (boundary !== -1 && boundary !== SLASH && boundary !== QUESTION) continue;
    const bucket = byLastChar.get(path.charCodeAt(len - 1));
    if (bucket === undefined) continue;
    for (let i = 0; i < bucket.length; i++) {
      const route = bucket[i]!;
      if (!path.startsWith(route.prefix)) continue;
      if (boundary === -1) return { route, strippedPath: '/' };
      if (boundary === SLASH) return { route, strippedPath: path.slice(len) };
      return { route, strippedPath: `/${path.slice(len)}` };
    }
  }
  return table.root === undefined ? undefined : { route: table.root, strippedPath: path };
}
