/**
 * Crash-loop backoff, a pure function: the first crash is replaced at once (a one-off crash
 * should cost nothing), then each further crash in a row doubles the wait, capped so that a
 * fixed bug is picked up within half a minute.
 */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 30_000;
/** A replica that stays RUNNING this long ends the crash streak. */
export const BACKOFF_RESET_MS = 10_000;

/** `crashes` = crashes in a row, counting the one that just happened (>= 1). */
export function backoffDelayMs(crashes: number): number {
  if (crashes <= 1) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (crashes - 2));
}

/** How many failed starts of one version make its deployment DEPLOY_FAILED (CONTRACT). */
export function maxStartFailures(targetReplicas: number): number {
  return Math.min(3 * Math.max(1, targetReplicas), 20);
}

/** Replicas a rolling restart may replace at once: 20% of the target, at least one. */
export function rollingStep(targetReplicas: number): number {
  return Math.max(1, Math.floor(targetReplicas * 0.2));
}
