/**
 * Compile: Spec -> Plan (versions, route table, binding graph) and diff(Plan, Plan) -> the
 * Plan JSON. The change flow's middle step; everything here but the file reads is pure.
 */
export type * from './types.ts';
export { compilePlan, compilePlanSync, deploymentId, scalingOf, splitHandler, type CompileOptions } from './compile.ts';
export { diffPlans, diffDeployment } from './diff.ts';
export { buildRoutes, matchRoute, type RouteMatch } from './route-table.ts';
export { startOrder, type BindingNode } from './binding-graph.ts';
export { canonicalJson, shortHash, codeVersion, userConfigVersion, scaleVersion } from './versions.ts';
export { codeGraph, localTarget, resolveLocal, MISSING, type CodeGraph } from './code-graph.ts';
export { scanImports } from './import-scanner.ts';
export { SourceCache, runAsync, runSync } from './source-cache.ts';
