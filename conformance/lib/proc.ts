/**
 * Child processes for the runner: every process it starts gets its own process group and a
 * marker in its environment, so that the runner can find and kill exactly what it started
 * (and what those started), never anything else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { CliResult } from './match.ts';

/** Set in every process the runner starts; inherited by their children (replicas). */
export const MARKER_ENV = 'SWITCHYARD_CONFORMANCE_RUN';

export interface Spawned {
  child: ChildProcess;
  /** Resolves when the process has exited and its stdio has closed. */
  exited: Promise<{ exit: number | null; signal: string | null }>;
  stdout: () => string;
  stderr: () => string;
}

/** Starts `command args` in a new process group (detached) with output captured. */
export function spawnGroup(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; stdin?: string }): Spawned {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c; });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c; });
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  const exited = new Promise<{ exit: number | null; signal: string | null }>((resolve) => {
    child.on('error', (e) => {
      err += `[runner] cannot start ${command}: ${e.message}\n`;
      resolve({ exit: null, signal: null });
    });
    child.on('close', (exit, signal) => resolve({ exit, signal }));
  });
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** Sends a signal to a whole process group; a group that is already gone is fine. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/**
 * Waits `ms`. With a signal, an abort (the scenario timed out) rejects at once, so that no
 * polling loop outlives its scenario and keeps the process alive.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new Error('aborted: scenario timeout'));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted: scenario timeout'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves to the value, or to `undefined` when `ms` passes first. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command to completion, killing its process group when `timeoutMs` passes. */
export async function runToEnd(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; stdin?: string; timeoutMs: number; signal?: AbortSignal }): Promise<CliResult & { timedOut: boolean }> {
  const p = spawnGroup(command, args, options);
  const onAbort = (): void => killGroup(p.child.pid, 'SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  void p.exited.then(() => options.signal?.removeEventListener('abort', onAbort));
  let result = await within(p.exited, options.timeoutMs);
  const timedOut = result === undefined;
  if (timedOut) {
    killGroup(p.child.pid, 'SIGKILL');
    result = await within(p.exited, 5_000);
  }
  return { exit: result?.exit ?? null, signal: result?.signal ?? null, stdout: p.stdout(), stderr: p.stderr(), timedOut };
}

export interface LiveProcess {
  pid: number;
  cmd: string;
}

/**
 * Processes still alive that belong to a run: in process group `pgid`, or carrying
 * `MARKER_ENV=marker` (a replica that moved to its own group or session still carries it).
 * Zombies are left out: they hold no resources and their parent, not us, must reap them.
 */
export function liveProcesses(pgid: number, marker: string): LiveProcess[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    // No /proc (not Linux): the group is all we can see.
    try {
      process.kill(-pgid, 0);
      return [{ pid: -pgid, cmd: `(process group ${pgid})` }];
    } catch {
      return [];
    }
  }
  const needle = `${MARKER_ENV}=${marker}`;
  const found: LiveProcess[] = [];
  for (const d of pids) {
    const pid = Number(d);
    if (pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = fields[0];
      const pgrp = Number(fields[2]);
      if (state === 'Z') continue;
      let ours = pgrp === pgid;
      if (!ours) {
        ours = readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(needle);
      }
      if (ours) {
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim();
        found.push({ pid, cmd });
      }
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return found;
}

/** SIGKILLs every process of a run (group and marker), by pid. */
export function killRun(pgid: number, marker: string): void {
  killGroup(pgid, 'SIGKILL');
  for (const p of liveProcesses(pgid, marker)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
