/**
 * The spec folder's public face: load and validate `serve.yaml` into a frozen Spec.
 */
export { formatProblem, loadSpecFile, loadSpecText, type LoadTextOptions } from './load.ts';
export {
  AUTO_NUM_REPLICAS_DEFAULTS,
  AUTOSCALING_CONFIG_DEFAULTS,
  PANIC_THRESHOLD_DEFAULT,
  autoscalingDefaults,
  resolveAutoscaling,
  type AutoscalingDefaults,
  type ResolvedAutoscalingConfig,
} from './defaults.ts';
export { APP_BINDING_PREFIX } from './semantic-check.ts';
export { serveSchema } from './schema-check.ts';
export type {
  AdminOptions,
  ApplicationSpec,
  AutoscalingConfig,
  DeploymentSpec,
  HttpOptions,
  JsonValue,
  LoadResult,
  Spec,
  SpecProblem,
} from './types.ts';
