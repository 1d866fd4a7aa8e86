/**
 * The CLI's side of the admin API (CONTRACT section 5): one place for the address, the token and
 * the two ways a gateway can be out of reach — not answering, or refusing the token — which end
 * every command the same way: one line on stderr and exit 3.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { request } from 'undici';
import type { PlanDiff } from '../compile/types.ts';
import type { StatusJson } from '../controller/status.ts';
import { ERRORS, SwitchyardError } from '../errors.ts';

/** Where `switchyard run` puts the admin API unless told otherwise. */
export const DEFAULT_ADDRESS = 'http://127.0.0.1:8265';
/** Every admin call answers in milliseconds; anything slower is a hung gateway, reported as such. */
const REQUEST_TIMEOUT_MS = 30_000;

/** `--address` and `--token`, as every command that talks to a gateway takes them. */
export interface ConnectionOptions {
  readonly address: string;
  readonly token?: string;
}

/** commander parser for `--address` (and SWITCHYARD_ADDRESS): an http(s) URL, without trailing '/'. */
export function parseAddress(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`must be a URL such as ${DEFAULT_ADDRESS}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('must be an http:// or https:// URL.');
  return value.replace(/\/+$/, '');
}

/** Adds `--address` (env SWITCHYARD_ADDRESS) and `--token` (env SWITCHYARD_ADMIN_TOKEN) to `command`. */
export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--address <url>', 'admin API of the running gateway').env('SWITCHYARD_ADDRESS').argParser(parseAddress).default(DEFAULT_ADDRESS))
    .addOption(new Option('--token <token>', 'admin API token, sent as Authorization: Bearer').env('SWITCHYARD_ADMIN_TOKEN'));
}

/** One admin API answer, body read whole. */
export interface AdminResponse {
  readonly status: number;
  readonly text: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json: any;
}

/** The 400 body of an apply or plan: `spec_invalid` carries problems, `static_config_changed` a message. */
export interface RefusedSpec {
  readonly ok: false;
  readonly status: number;
  readonly error: string | undefined;
  readonly message: string;
  readonly problems: readonly string[];
}

export class AdminClient {
  readonly address: string;
  readonly #token: string | undefined;

  constructor(options: ConnectionOptions) {
    this.address = options.address;
    this.#token = options.token || undefined;
  }

  /**
   * Sends one request. Throws a SwitchyardError (exit 3) when the gateway cannot be reached or
   * refuses the token; every other answer is returned for the caller to judge.
   */
  async send(method: string, path: string, init: { body?: string; contentType?: string; timeoutMs?: number } = {}): Promise<AdminResponse> {
    const timeoutMs = init.timeoutMs ?? REQUEST_TIMEOUT_MS;
    let res;
    try {
      res = await request(`${this.address}${path}`, {
        method: method as 'GET',
        headers: {
          ...(init.body !== undefined && { 'content-type': init.contentType ?? 'application/json' }),
          ...(this.#token && { authorization: `Bearer ${this.#token}` }),
        },
        ...(init.body !== undefined && { body: init.body }),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new SwitchyardError(ERRORS.GATEWAY_UNREACHABLE, `cannot reach the gateway's admin API at ${this.address} (${why}); is it running? (--address or SWITCHYARD_ADDRESS)`);
    }
    const text = await res.body.text();
    if (res.statusCode === 401) {
      throw new SwitchyardError(ERRORS.UNAUTHORIZED, `the gateway at ${this.address} refused the admin token (401); pass --token or set SWITCHYARD_ADMIN_TOKEN.`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, text, json };
  }

  /** `GET /api/serve/applications/`. */
  async status(): Promise<StatusJson> {
    return (await this.statusWithText()).status;
  }

  /** The status and the body exactly as the gateway sent it (`status --json` prints it unchanged). */
  async statusWithText(): Promise<{ readonly status: StatusJson; readonly text: string }> {
    const res = await this.send('GET', '/api/serve/applications/');
    if (res.status !== 200 || typeof res.json?.applications !== 'object' || res.json.applications === null) throw this.#unexpected(res);
    return { status: res.json as StatusJson, text: res.text };
  }

  /** `PUT /api/serve/applications/` (apply) or `POST /api/serve/plan` (dry run) with a spec body. */
  async submit(kind: 'apply' | 'plan', body: string): Promise<{ readonly ok: true; readonly plan: PlanDiff } | RefusedSpec> {
    const res = kind === 'apply'
      ? await this.send('PUT', '/api/serve/applications/', { body })
      : await this.send('POST', '/api/serve/plan', { body });
    if (res.status === 200 && Array.isArray(res.json?.applications)) return { ok: true, plan: res.json as PlanDiff };
    if (res.status === 400 && typeof res.json?.error === 'string') {
      return {
        ok: false, status: res.status, error: res.json.error, message: String(res.json.message ?? ''),
        problems: Array.isArray(res.json.problems) ? res.json.problems.map(String) : [],
      };
    }
    throw this.#unexpected(res);
  }

  /** `GET /api/serve/config`: the applied spec as YAML. */
  async config(): Promise<string> {
    const res = await this.send('GET', '/api/serve/config');
    if (res.status !== 200) throw this.#unexpected(res);
    return res.text;
  }

  /** `POST /api/serve/shutdown`. */
  async shutdown(): Promise<void> {
    const res = await this.send('POST', '/api/serve/shutdown');
    if (res.status !== 200) throw this.#unexpected(res);
  }

  /** Whether anything answers at the address (any status, even 401): used to see a gateway go away. */
  async answers(timeoutMs: number): Promise<boolean> {
    try {
      await request(`${this.address}/api/serve/applications/`, {
        method: 'GET', reset: true, headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
        ...(this.#token && { headers: { authorization: `Bearer ${this.#token}` } }),
      }).then((r) => r.body.dump());
      return true;
    } catch {
      return false;
    }
  }

  /** An answer the command did not expect (a proxy in the way, an older gateway): exit 1, one line. */
  #unexpected(res: AdminResponse): SwitchyardError {
    const detail = typeof res.json?.message === 'string' ? res.json.message : (res.text.trim().split('\n')[0] ?? '').slice(0, 200);
    return new SwitchyardError(ERRORS.APPLY_FAILED, `the gateway at ${this.address} answered ${res.status}${detail ? `: ${detail}` : ''}`);
  }
}

/** Prints a refused spec the way `validate` prints problems: one a line on stderr, then why. */
export function reportRefused(refused: RefusedSpec, file: string): void {
  for (const p of refused.problems) process.stderr.write(`${p}\n`);
  const what = refused.error === ERRORS.SPEC_INVALID.code ? `the gateway found ${file} invalid` : `the gateway refused ${file}`;
  process.stderr.write(`switchyard: ${what}: ${refused.message}\n`);
}
