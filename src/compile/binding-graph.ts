/**
 * The binding graph: deployment -> the deployments its handles are bound to, across
 * applications. Its topological order is the start order, so a deployment's handles have
 * somewhere to go by the time its constructor runs.
 */
import type { DeploymentId } from './types.ts';

/** A node of the graph: a deployment and the DeploymentIds its bindings resolve to. */
export interface BindingNode {
  readonly id: DeploymentId;
  readonly bindings: Readonly<Record<string, DeploymentId>>;
}

/**
 * Every deployment, dependencies before the deployments bound to them. Among deployments whose
 * dependencies have all started, the one listed first in the spec goes first (Kahn's algorithm
 * with spec order as the tie-break), so the order is stable and reads like the spec.
 * The Spec is validated to be a DAG; a cycle or an unknown target here is a defect and throws.
 */
export function startOrder(nodes: readonly BindingNode[]): DeploymentId[] {
  const index = new Map<DeploymentId, number>();
  nodes.forEach((node, i) => index.set(node.id, i));
  const waitingOn = new Array<number>(nodes.length).fill(0);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    // A deployment bound twice to the same target waits for it once.
    for (const target of new Set(Object.values(node.bindings))) {
      const t = index.get(target);
      if (t === undefined) throw new Error(`binding graph: ${node.id} is bound to unknown deployment ${target}`);
      waitingOn[i]!++;
      dependents[t]!.push(i);
    }
  });
  // Ready deployments, kept sorted by spec index (descending, so pop() takes the smallest).
  const ready: number[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) if (waitingOn[i] === 0) ready.push(i);
  const order: DeploymentId[] = [];
  while (ready.length > 0) {
    const i = ready.pop()!;
    order.push(nodes[i]!.id);
    for (const d of dependents[i]!) {
      if (--waitingOn[d]! === 0) insertDescending(ready, d);
    }
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.filter((_, i) => waitingOn[i]! > 0).map((n) => n.id);
    throw new Error(`binding graph: cycle among ${stuck.join(', ')}`);
  }
  return order;
}

function insertDescending(list: number[], value: number): void {
  let at = list.length;
  while (at > 0 && list[at - 1]! < value) at--;
  list.splice(at, 0, value);
}
