/**
 * The admin API (CONTRACT section 5) on `admin.host:admin.port`: status, apply, plan, config,
 * shutdown and Prometheus metrics. Every route needs `Authorization: Bearer <token>` when
 * SWITCHYARD_ADMIN_TOKEN is set.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERRORS, SwitchyardError, type ErrorDef } from '../errors.ts';
import { formatProblem } from '../spec/load.ts';
import type { SpecProblem } from '../spec/types.ts';
import { listen } from '../net/listen.ts';

/** Specs are small; anything bigger than this is a mistake, not a spec. */
const MAX_SPEC_BYTES = 10 * 1024 * 1024;

export type ApplyOutcome =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly error: ErrorDef; readonly message: string; readonly problems?: readonly SpecProblem[] };

/** What the admin API needs from the gateway; a seam so the server is small and testable. */
export interface AdminBackend {
  status(): unknown;
  /** Validate, compile, diff and (unless `dryRun`) apply a spec sent as YAML or JSON text. */
  apply(text: string, options: { dryRun: boolean; source: string }): Promise<ApplyOutcome>;
  deleteAll(): Promise<ApplyOutcome>;
  configYaml(): string;
  shutdown(): void;
  metrics(req: IncomingMessage, res: ServerResponse): void;
}

export class AdminServer {
  readonly #server: Server;
  readonly #backend: AdminBackend;
  readonly #token: Buffer | undefined;

  constructor(backend: AdminBackend, token: string | undefined) {
    this.#backend = backend;
    this.#token = token ? Buffer.from(token) : undefined;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err) => {
        if (res.headersSent) return void res.destroy();
        if (err instanceof SwitchyardError) sendJson(res, err.status, err.toJSON());
        else sendError(res, ERRORS.APPLY_FAILED, `internal error: ${(err as Error).message}`);
      });
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listen(this.#server, host, port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #authorized(req: IncomingMessage): boolean {
    if (!this.#token) return true;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/i.exec(header);
    if (!m) return false;
    const given = Buffer.from(m[1]!.trim());
    return given.length === this.#token.length && timingSafeEqual(given, this.#token);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendError(res, ERRORS.UNAUTHORIZED);
    }
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const backend = this.#backend;
    switch (path) {
      case '/api/serve/applications':
        if (method === 'GET') return sendJson(res, 200, backend.status());
        if (method === 'PUT') return sendOutcome(res, await backend.apply(await readBody(req), { dryRun: false, source: '<request>' }));
        if (method === 'DELETE') return sendOutcome(res, await backend.deleteAll());
        return notAllowed(res, 'GET, PUT, DELETE');
      case '/api/serve/plan':
        if (method === 'POST') return sendOutcome(res, await backend.apply(await readBody(req), { dryRun: true, source: '<request>' }));
        return notAllowed(res, 'POST');
      case '/api/serve/config':
        if (method !== 'GET') return notAllowed(res, 'GET');
        res.writeHead(200, { 'content-type': 'application/yaml; charset=utf-8' });
        return void res.end(backend.configYaml());
      case '/api/serve/shutdown':
        if (method !== 'POST') return notAllowed(res, 'POST');
        sendJson(res, 200, { status: 'shutting down' });
        // Answer first: the caller should learn that the shutdown started.
        res.on('finish', () => backend.shutdown());
        return;
      case '/metrics':
        if (method !== 'GET') return notAllowed(res, 'GET');
        return backend.metrics(req, res);
      default:
        return sendError(res, ERRORS.NOT_FOUND, `No admin API route at ${path}.`);
    }
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_SPEC_BYTES) throw new SwitchyardError(ERRORS.SPEC_INVALID, `The spec is larger than ${MAX_SPEC_BYTES} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendOutcome(res: ServerResponse, outcome: ApplyOutcome): void {
  if (outcome.ok) return sendJson(res, 200, outcome.body);
  const body: Record<string, unknown> = { error: outcome.error.code, message: outcome.message };
  if (outcome.problems) body.problems = outcome.problems.map(formatProblem);
  sendJson(res, outcome.error.status, body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, def: ErrorDef, message = def.message): void {
  sendJson(res, def.status, { error: def.code, message });
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  sendError(res, ERRORS.METHOD_NOT_ALLOWED);
}
