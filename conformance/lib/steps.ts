/**
 * Step executors. Each takes the scenario's context and a step, and either returns (the step
 * passed) or throws a StepFailure whose message is the full report for that step.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Agent } from 'undici';
import { cliMismatches, httpMismatches, type HttpResult } from './match.ts';
import { MARKER_ENV, runToEnd, sleep } from './proc.ts';
import { httpCall, leftovers, outputTail, startGateway, StartError, stopGateway, type Gateway } from './gateway.ts';
import type { HttpRequestSpec, Step } from './scenario.ts';

export class StepFailure extends Error {}

export interface Context {
  /** The scenario's temporary copy; cwd of every command. */
  dir: string;
  /** Absolute path of bin/switchyard.js. */
  bin: string;
  /** The Node binary running the runner; the CLI runs on the same one. */
  node: string;
  agent: Agent;
  /** Aborted when the scenario times out; every loop and sleep of a step stops on it. */
  signal: AbortSignal;
  runId: string;
  gateway?: Gateway;
  /** Every gateway started, so cleanup can kill all of them. */
  started: Gateway[];
}

/** Expands `${http}`, `${admin}` and `${dir}` in every string of a value. */
export function expand<T>(ctx: Context, value: T): T {
  if (typeof value === 'string') {
    return value.replace(/\$\{(http|admin|dir)\}/g, (_, name: string) => {
      if (name === 'dir') return ctx.dir;
      if (!ctx.gateway) throw new StepFailure(`\${${name}} used but no gateway is running (add a start step first)`);
      return name === 'http' ? ctx.gateway.http : ctx.gateway.admin;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => expand(ctx, v)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(ctx, v)])) as T;
  }
  return value;
}

/** A path inside the scenario copy; a scenario may not write outside it. */
function inside(ctx: Context, path: string): string {
  const abs = resolve(ctx.dir, path);
  const rel = relative(ctx.dir, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new StepFailure(`path ${path} is outside the scenario directory`);
  return abs;
}

function baseEnv(ctx: Context, extra: Record<string, string>, marker: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', [MARKER_ENV]: marker };
  delete env.FORCE_COLOR;
  // Commands talk to the started gateway unless the step says otherwise.
  if (ctx.gateway) env.SWITCHYARD_ADDRESS = ctx.gateway.admin;
  return { ...env, ...extra };
}

async function doRequest(ctx: Context, req: HttpRequestSpec): Promise<HttpResult> {
  const r = expand(ctx, req);
  if (!ctx.gateway && !/^https?:\/\//.test(r.path)) throw new StepFailure('http step before any start step');
  const url = /^https?:\/\//.test(r.path) ? r.path : `${ctx.gateway!.http}${r.path.startsWith('/') ? '' : '/'}${r.path}`;
  const headers = { ...r.headers };
  let body = r.body;
  if (r.json !== undefined) {
    body = JSON.stringify(r.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  return httpCall(ctx.agent, url, { method: r.method, headers, body, timeoutMs: r.timeout_ms });
}

function gatewayContext(ctx: Context): string {
  return ctx.gateway ? `\n  gateway output (last lines):\n${outputTail(ctx.gateway)}` : '';
}

export async function runStep(ctx: Context, step: Step): Promise<void> {
  switch (step.kind) {
    case 'cli': {
      const args = expand(ctx, step.args);
      const res = await runToEnd(ctx.node, [ctx.bin, ...args], {
        cwd: ctx.dir,
        env: baseEnv(ctx, expand(ctx, step.env), `${ctx.runId}-cli`),
        stdin: step.stdin === undefined ? undefined : expand(ctx, step.stdin),
        timeoutMs: step.timeout_ms,
        signal: ctx.signal,
      });
      const problems = res.timedOut ? [`timed out after ${step.timeout_ms} ms (killed)`] : [];
      problems.push(...cliMismatches(expand(ctx, step.expect), res));
      if (problems.length > 0) {
        throw new StepFailure(`${problems.join('\n')}\n  exit: ${res.exit ?? `signal ${res.signal}`}` +
          `\n  stdout:\n${indent(res.stdout)}\n  stderr:\n${indent(res.stderr)}`);
      }
      return;
    }
    case 'start': {
      if (ctx.gateway && !ctx.gateway.exit) throw new StepFailure('a gateway is already running (stop it first)');
      const marker = `${ctx.runId}-gw${ctx.started.length}`;
      try {
        ctx.gateway = await startGateway({
          node: ctx.node, bin: ctx.bin, cwd: ctx.dir, spec: expand(ctx, step.spec), args: expand(ctx, step.args),
          env: baseEnv({ ...ctx, gateway: undefined }, expand(ctx, step.env), marker),
          watch: step.watch, waitRunning: step.wait_running, timeoutMs: step.timeout_ms, marker, agent: ctx.agent, signal: ctx.signal,
          onSpawn: (g) => { ctx.started.push(g); },
        });
      } catch (err) {
        if (err instanceof StartError) throw new StepFailure(err.message);
        throw err;
      }
      return;
    }
    case 'http': {
      for (let i = 0; i < step.repeat; i++) {
        if (ctx.signal.aborted) return;
        let res: HttpResult;
        try {
          res = await doRequest(ctx, step.request);
        } catch (err) {
          if (err instanceof StepFailure) throw err;
          throw new StepFailure(`request ${i + 1}/${step.repeat} failed: ${(err as Error).message}${gatewayContext(ctx)}`);
        }
        const problems = httpMismatches(expand(ctx, step.expect), res);
        if (problems.length > 0) {
          throw new StepFailure(`${step.repeat > 1 ? `request ${i + 1}/${step.repeat}: ` : ''}${problems.join('\n')}`);
        }
      }
      return;
    }
    case 'write_file': {
      const path = inside(ctx, expand(ctx, step.path));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, expand(ctx, step.content));
      return;
    }
    case 'copy_file': {
      const to = inside(ctx, expand(ctx, step.to));
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(inside(ctx, expand(ctx, step.from)), to);
      return;
    }
    case 'wait': {
      if (step.ms !== undefined) {
        await sleep(step.ms, ctx.signal);
        return;
      }
      const deadline = Date.now() + step.timeout_ms;
      let last: string[] = [];
      for (;;) {
        try {
          last = httpMismatches(expand(ctx, step.expect), await doRequest(ctx, step.until_http!));
        } catch (err) {
          if (err instanceof StepFailure) throw err;
          last = [(err as Error).message];
        }
        if (last.length === 0) return;
        if (Date.now() > deadline) {
          throw new StepFailure(`expectation did not hold within ${step.timeout_ms} ms; last attempt:\n${last.join('\n')}`);
        }
        await sleep(step.interval_ms, ctx.signal);
      }
    }
    case 'stop': {
      const g = ctx.gateway;
      if (!g) throw new StepFailure('stop without a started gateway');
      const exit = await stopGateway(g, step.timeout_ms);
      if (!exit) throw new StepFailure(`gateway did not exit within ${step.timeout_ms} ms of SIGTERM${gatewayContext(ctx)}`);
      const problems: string[] = [];
      if (step.expect.exit !== undefined && exit.exit !== step.expect.exit) {
        problems.push(`exit: expected ${step.expect.exit}, got ${exit.exit ?? `signal ${exit.signal}`}`);
      }
      if (step.expect.signal !== undefined && exit.signal !== step.expect.signal) {
        problems.push(`signal: expected ${step.expect.signal}, got ${exit.signal ?? `exit ${exit.exit}`}`);
      }
      if (step.no_orphans) {
        const left = await leftovers(g, 2_000);
        if (left.length > 0) {
          problems.push(`processes left after the gateway exited:\n${left.map((p) => `    pid ${p.pid}: ${p.cmd}`).join('\n')}`);
        }
      }
      if (problems.length > 0) throw new StepFailure(`${problems.join('\n')}${gatewayContext(ctx)}`);
      return;
    }
  }
}

function indent(text: string): string {
  const t = text.trimEnd();
  return t === '' ? '    (empty)' : t.split('\n').slice(-40).map((l) => `    | ${l}`).join('\n');
}
