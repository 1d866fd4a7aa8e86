/** Runs wrk against one URL and parses throughput and latency percentiles from `--latency`. */
import { run } from './processes.ts';

export interface WrkResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly requests: number;
}

export interface WrkOptions {
  readonly threads: number;
  readonly connections: number;
  readonly seconds: number;
}

export async function wrk(url: string, o: WrkOptions): Promise<WrkResult> {
  const out = await run('wrk', [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, '--latency', url], (o.seconds + 30) * 1000);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const p50Ms = toMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1]);
  const p99Ms = toMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1]);
  // "Socket errors: connect 0, read 0, write 0, timeout 0" and "Non-2xx or 3xx responses: N".
  let errors = 0;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (socket) errors += socket.slice(1).reduce((a, b) => a + Number(b), 0);
  errors += Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  if (!Number.isFinite(rps)) throw new Error(`cannot parse wrk output:\n${out}`);
  return { rps, p50Ms, p99Ms, errors, requests };
}

function toMs(value: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value ?? '');
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}
