/**
 * Finds cycles in the Binding graph. Bindings must form a DAG: a cycle would deadlock the first
 * request that walks it, and leaves no deployment that can start first.
 */

/** One Binding, already resolved to the deployment it reaches. */
export interface BindingEdge {
  readonly app: string;
  readonly deployment: string;
  readonly targetApp: string;
  readonly targetDeployment: string;
  /** Where the binding is written, handed back with the cycle it closes. */
  readonly at: unknown;
}

export interface BindingCycle<E extends BindingEdge = BindingEdge> {
  /** The binding that closes the cycle, in the order the spec lists bindings. */
  readonly closing: E;
  /** The deployments on the cycle, `A -> B -> A` style, qualified `APP#NAME` when it spans apps. */
  readonly description: string;
}

/**
 * Every cycle closed by a back edge of a depth-first walk that visits deployments and their
 * bindings in spec order, so the binding reported is the one a reader meets last on the cycle.
 */
export function findBindingCycles<E extends BindingEdge>(
  nodes: ReadonlyArray<{ readonly app: string; readonly deployment: string }>,
  edges: readonly E[],
): BindingCycle<E>[] {
  const id = (app: string, deployment: string): string => `${app}#${deployment}`;
  const outgoing = new Map<string, E[]>();
  for (const e of edges) {
    const from = id(e.app, e.deployment);
    const list = outgoing.get(from) ?? [];
    list.push(e);
    outgoing.set(from, list);
  }

  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const colour = new Map<string, number>();
  const stack: Array<{ app: string; deployment: string }> = [];
  const cycles: BindingCycle<E>[] = [];

  const visit = (app: string, deployment: string): void => {
    const me = id(app, deployment);
    colour.set(me, GREY);
    stack.push({ app, deployment });
    for (const edge of outgoing.get(me) ?? []) {
      const target = id(edge.targetApp, edge.targetDeployment);
      const c = colour.get(target) ?? WHITE;
      if (c === GREY) {
        const start = stack.findIndex((n) => id(n.app, n.deployment) === target);
        const loop = [...stack.slice(start), stack[start]!];
        cycles.push({ closing: edge, description: describeLoop(loop) });
      } else if (c === WHITE) {
        visit(edge.targetApp, edge.targetDeployment);
      }
    }
    stack.pop();
    colour.set(me, BLACK);
  };

  for (const n of nodes) {
    if ((colour.get(id(n.app, n.deployment)) ?? WHITE) === WHITE) visit(n.app, n.deployment);
  }
  return cycles;
}

function describeLoop(loop: ReadonlyArray<{ app: string; deployment: string }>): string {
  const oneApp = loop.every((n) => n.app === loop[0]!.app);
  return loop.map((n) => (oneApp ? n.deployment : `${n.app}#${n.deployment}`)).join(' -> ');
}
