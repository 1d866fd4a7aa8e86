/**
 * Plan diff: what changes when `next` replaces `old`, as the Plan JSON of CONTRACT section 5.
 *
 * The action comes from the versions (a differing code version is a restart, then user_config
 * a reconfigure, then scale a scale), the way Ray Serve compares deployment versions; the
 * reasons come from the fields behind each differing version, so the action never depends on
 * how well a change can be explained, and every explanation is listed.
 */
import { isAbsolute, relative, sep } from 'node:path';
import type {
  ApplicationChange, ApplicationPlan, DeploymentAction, DeploymentChange, DeploymentPlan, Plan, PlanDiff, Scaling,
} from './types.ts';
import { canonicalJson } from './versions.ts';

/** What changes between two Plans; `old` undefined means nothing runs yet. Pure. */
export function diffPlans(old: Plan | undefined, next: Plan): PlanDiff {
  const oldApps = new Map((old?.applications ?? []).map((app) => [app.name, app] as const));
  const changes: ApplicationChange[] = [];
  for (const app of next.applications) {
    const before = oldApps.get(app.name);
    if (before === undefined) {
      changes.push({ name: app.name, action: 'create', deployments: app.deployments.map((d) => noReason(d.name, 'create')) });
      continue;
    }
    const reasons = appReasons(before, app);
    const deployments = diffDeployments(before, app, old!, next);
    const touched = reasons.length > 0 || deployments.some((d) => d.action !== 'unchanged');
    changes.push({
      name: app.name,
      action: touched ? 'update' : 'unchanged',
      ...(reasons.length > 0 ? { reasons } : {}),
      deployments,
    });
  }
  const kept = new Set(next.applications.map((app) => app.name));
  for (const app of old?.applications ?? []) {
    if (kept.has(app.name)) continue;
    changes.push({ name: app.name, action: 'delete', deployments: app.deployments.map((d) => noReason(d.name, 'delete')) });
  }
  return { applications: changes };
}

function noReason(name: string, action: DeploymentAction): DeploymentChange {
  return { name, action, reasons: [] };
}

function appReasons(before: ApplicationPlan, after: ApplicationPlan): string[] {
  const reasons: string[] = [];
  if (before.route_prefix !== after.route_prefix) {
    reasons.push(`route_prefix ${before.route_prefix ?? 'null'} -> ${after.route_prefix ?? 'null'}`);
  }
  if (before.ingress !== after.ingress) reasons.push(`ingress ${shortName(before.ingress)} -> ${shortName(after.ingress)}`);
  return reasons;
}

/** `app#Model` -> `Model`: within one app's reasons the app name is noise. */
function shortName(id: string): string {
  return id.slice(id.indexOf('#') + 1);
}

function diffDeployments(before: ApplicationPlan, after: ApplicationPlan, old: Plan, next: Plan): DeploymentChange[] {
  const oldDeps = new Map(before.deployments.map((d) => [d.name, d] as const));
  const out: DeploymentChange[] = [];
  for (const d of after.deployments) {
    const prev = oldDeps.get(d.name);
    out.push(prev === undefined ? noReason(d.name, 'create') : diffDeployment(prev, d, old.base_dir, next.base_dir));
  }
  const kept = new Set(after.deployments.map((d) => d.name));
  for (const d of before.deployments) if (!kept.has(d.name)) out.push(noReason(d.name, 'delete'));
  return out;
}

/** One deployment present in both Plans: strongest action, every reason. */
export function diffDeployment(prev: DeploymentPlan, d: DeploymentPlan, oldBase: string, newBase: string): DeploymentChange {
  const code = prev.versions.code !== d.versions.code;
  const userConfig = prev.versions.user_config !== d.versions.user_config;
  const scale = prev.versions.scale !== d.versions.scale;
  const reasons: string[] = [];
  if (code) {
    const found = codeReasons(prev, d, oldBase, newBase);
    reasons.push(...(found.length > 0 ? found : ['code version changed']));
  }
  if (userConfig) reasons.push('user_config');
  if (scale) {
    const found = scaleReasons(prev, d);
    reasons.push(...(found.length > 0 ? found : ['scale version changed']));
  }
  const action: DeploymentAction = code ? 'restart' : userConfig ? 'reconfigure' : scale ? 'scale' : 'unchanged';
  return { name: d.name, action, reasons };
}

/** A path as the user thinks of it: relative to the spec's directory when inside it. */
function display(path: string, base: string): string {
  const rel = relative(base, path);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return path;
  return rel.split(sep).join('/');
}

function codeReasons(prev: DeploymentPlan, d: DeploymentPlan, oldBase: string, newBase: string): string[] {
  const reasons: string[] = [];
  if (prev.handler_path !== d.handler_path) {
    let from = display(prev.handler_path, oldBase);
    let to = display(d.handler_path, newBase);
    // The same relative path under a moved spec directory: only absolute paths tell them apart.
    if (from === to) [from, to] = [prev.handler_path, d.handler_path];
    const dot = (p: string): string => (isAbsolute(p) ? p : `./${p}`);
    reasons.push(`handler path ${dot(from)} -> ${dot(to)}`);
  } else if (prev.code_hashes[d.handler_path] !== d.code_hashes[d.handler_path]) {
    reasons.push('handler file changed');
  }
  if (prev.export_name !== d.export_name) {
    reasons.push(`handler export ${prev.export_name ?? 'default'} -> ${d.export_name ?? 'default'}`);
  }
  const handlers = new Set([prev.handler_path, d.handler_path]);
  const files = new Set([...Object.keys(prev.code_hashes), ...Object.keys(d.code_hashes)]);
  for (const file of [...files].sort()) {
    if (handlers.has(file)) continue;
    const was = prev.code_hashes[file];
    const now = d.code_hashes[file];
    if (was === now) continue;
    if (was === undefined) reasons.push(`imported module added: ${display(file, newBase)}`);
    else if (now === undefined) reasons.push(`imported module removed: ${display(file, oldBase)}`);
    else reasons.push(`imported module changed: ${display(file, newBase)}`);
  }
  if (canonicalJson({ v: prev.args }) !== canonicalJson({ v: d.args })) reasons.push('args');
  if (canonicalJson(prev.bindings) !== canonicalJson(d.bindings)) reasons.push('bindings');
  if (canonicalJson(prev.env) !== canonicalJson(d.env)) reasons.push('env');
  return reasons;
}

const LIMIT_FIELDS = [
  'max_ongoing_requests',
  'max_queued_requests',
  'health_check_period_s',
  'health_check_timeout_s',
  'graceful_shutdown_timeout_s',
] as const;

function replicasLabel(s: Scaling): string {
  return s.kind === 'fixed' ? String(s.replicas) : 'auto';
}

function scaleReasons(prev: DeploymentPlan, d: DeploymentPlan): string[] {
  const reasons: string[] = [];
  const a = prev.scaling;
  const b = d.scaling;
  if (a.kind !== b.kind || (a.kind === 'fixed' && b.kind === 'fixed' && a.replicas !== b.replicas)) {
    reasons.push(`num_replicas ${replicasLabel(a)} -> ${replicasLabel(b)}`);
  } else if (a.kind === 'auto' && b.kind === 'auto') {
    const keys = new Set([...Object.keys(a.config), ...Object.keys(b.config)]);
    for (const key of [...keys].sort()) {
      const was = (a.config as Record<string, number | undefined>)[key];
      const now = (b.config as Record<string, number | undefined>)[key];
      if (was !== now) reasons.push(`autoscaling_config.${key} ${was ?? 'unset'} -> ${now ?? 'unset'}`);
    }
  }
  for (const field of LIMIT_FIELDS) {
    if (prev[field] !== d[field]) reasons.push(`${field} ${prev[field]} -> ${d[field]}`);
  }
  return reasons;
}
