/**
 * The autoscaler's view of demand: what each reporter (a Replica's ongoing requests, a Router's
 * queue) last said, summed into the Deployment's total demand, kept as a time series and averaged
 * over a window (`look_back_period_s` for the stable value, `panic_window_s` for the panic value).
 *
 * The series is a step function: a sample holds from its time until the next sample (or `now`).
 * Averages are time-weighted over that step function rather than a plain mean of samples, because
 * samples arrive irregularly: every report changes the total and records a sample, and a burst of
 * reports during a busy second must not outweigh a quiet minute that produced one sample.
 * Equal consecutive samples are dropped (the step function does not change), so steady load costs
 * next to nothing to keep.
 *
 * Time is plain milliseconds from the caller (the Controller's clock), so tests drive it by hand.
 */

interface Sample {
  readonly at: number;
  value: number;
}

/** A time-weighted window over total demand, keeping only what the longest window needs. */
export class MetricsWindow {
  #retainMs: number;
  /** Ascending by `at`; the first one may be older than `retainMs`: it is the value at the window's start. */
  readonly #samples: Sample[] = [];

  /** @param retainMs - the longest window that will be asked for; older samples are dropped. */
  constructor(retainMs: number) {
    this.#retainMs = Math.max(0, retainMs);
  }

  /** Changes how much history is kept (a new config with a longer or shorter window). */
  set retainMs(ms: number) {
    this.#retainMs = Math.max(0, ms);
  }

  get retainMs(): number {
    return this.#retainMs;
  }

  /** Records the total demand at `now`. A time earlier than the last sample counts as the last sample's time. */
  record(now: number, value: number): void {
    const v = Number.isFinite(value) && value > 0 ? value : 0;
    const last = this.#samples.at(-1);
    if (last && v === last.value) {
      this.#prune(Math.max(now, last.at));
      return;
    }
    if (last && now <= last.at) {
      last.value = v;
    } else {
      this.#samples.push({ at: now, value: v });
    }
    this.#prune(Math.max(now, this.#samples.at(-1)!.at));
  }

  /**
   * The time-weighted average over `[now - windowMs, now]`. Only the part of the window the
   * series covers counts: a Deployment that started 5 s ago is judged on those 5 s, not diluted
   * with zeros nobody measured. With no covered time (a single sample at `now`, or `windowMs` 0)
   * it is the latest value; with no sample at all, 0.
   */
  average(now: number, windowMs: number): number {
    const s = this.#samples;
    if (s.length === 0) return 0;
    const start = now - Math.max(0, windowMs);
    let sum = 0;
    let covered = 0;
    for (let i = 0; i < s.length; i++) {
      const from = Math.max(s[i]!.at, start);
      const to = Math.min(i + 1 < s.length ? s[i + 1]!.at : now, now);
      if (to > from) {
        sum += s[i]!.value * (to - from);
        covered += to - from;
      }
    }
    return covered > 0 ? sum / covered : this.latest();
  }

  /** The most recent sample's value (0 before any). */
  latest(): number {
    return this.#samples.at(-1)?.value ?? 0;
  }

  /** Number of samples held (for tests and debugging: shows that pruning works). */
  get size(): number {
    return this.#samples.length;
  }

  #prune(now: number): void {
    const cutoff = now - this.#retainMs;
    // Keep the newest sample at or before the cutoff: it is the value at the window's start.
    let drop = 0;
    while (drop + 1 < this.#samples.length && this.#samples[drop + 1]!.at <= cutoff) drop++;
    if (drop > 0) this.#samples.splice(0, drop);
  }
}

/**
 * The latest value of every reporter (each Replica's ongoing requests, each Router's queued
 * requests for this Deployment), summed into the Deployment's total demand.
 *
 * A reporter not heard from for `staleAfterMs` counts as 0 and is forgotten: a Replica that
 * died or a caller that went away must not hold the Deployment up forever. It comes back with
 * its next report.
 */
export class DemandTracker {
  /** Silence (ms) after which a reporter counts as 0; settable for a new config. */
  staleAfterMs: number;
  readonly #latest = new Map<string, { at: number; value: number }>();

  /** @param staleAfterMs - silence after which a reporter counts as 0 (3 x the report interval). */
  constructor(staleAfterMs: number) {
    this.staleAfterMs = staleAfterMs;
  }

  /** A reporter's current value (a count of requests); negative or non-finite counts as 0. */
  report(reporterId: string, now: number, value: number): void {
    const prev = this.#latest.get(reporterId);
    // An out-of-order report (older than the one held) is dropped, so a late message cannot undo a newer one.
    if (prev && now < prev.at) return;
    this.#latest.set(reporterId, { at: now, value: Number.isFinite(value) && value > 0 ? value : 0 });
  }

  /** Drops a reporter at once (a Replica that stopped), instead of waiting for it to go stale. */
  forget(reporterId: string): void {
    this.#latest.delete(reporterId);
  }

  /** Total demand at `now`: the sum over reporters heard from within `staleAfterMs`. */
  sample(now: number): number {
    let total = 0;
    for (const [id, r] of this.#latest) {
      if (now - r.at >= this.staleAfterMs) this.#latest.delete(id);
      else total += r.value;
    }
    return total;
  }

  /** Reporters currently held (stale ones are dropped by `sample`). */
  get reporters(): number {
    return this.#latest.size;
  }
}
