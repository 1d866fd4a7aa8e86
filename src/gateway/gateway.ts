/**
 * The gateway process of `switchyard run`: the Proxy, the Controller and the admin API in one
 * Node.js process, with replicas as child processes. This file wires them together and owns the
 * change flow: text -> Spec -> Plan -> diff -> Controller.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { stringify } from 'yaml';
import { AdminServer, type AdminBackend, type ApplyOutcome } from '../admin/admin-server.ts';
import { compilePlan } from '../compile/compile.ts';
import { diffPlans } from '../compile/diff.ts';
import { realClock } from '../controller/clock.ts';
import { Controller } from '../controller/controller.ts';
import type { StatusJson } from '../controller/status.ts';
import { ERRORS } from '../errors.ts';
import { Proxy } from '../proxy/proxy.ts';
import { ProcessLauncher } from '../replica/process-launcher.ts';
import { loadSpecText } from '../spec/load.ts';
import type { Spec } from '../spec/types.ts';
import type { Logger } from '../telemetry/logger.ts';
import { Metrics } from '../telemetry/metrics.ts';

export interface GatewayOptions {
  /** The spec as loaded (its `http_options` and `admin` are what later applies are checked against). */
  readonly spec: Spec;
  /** Addresses to bind, after command-line overrides. */
  readonly listen: Pick<Spec, 'http_options' | 'admin'>;
  readonly logger: Logger;
  /** SWITCHYARD_ADMIN_TOKEN, when set. */
  readonly adminToken: string | undefined;
  /** Called once the gateway has stopped after a shutdown request (admin API). */
  readonly onShutdown?: () => void;
  /** Directory relative handler paths resolve against for specs sent over the admin API. */
  readonly cwd: string;
}

export interface GatewayAddresses {
  readonly http: AddressInfo;
  readonly admin: AddressInfo;
}

export class Gateway implements AdminBackend {
  readonly controller: Controller;
  readonly proxy: Proxy;
  readonly logger: Logger;
  readonly #launcher: ProcessLauncher;
  readonly #metrics: Metrics;
  readonly #admin: AdminServer;
  readonly #opts: GatewayOptions;
  #spec: Spec;
  /** Applies run one at a time, in arrival order; the last one wins. */
  #applying: Promise<unknown> = Promise.resolve();
  #stopping: Promise<void> | undefined;
  readonly #appStatus = new Map<string, string>();
  #statusTimer: NodeJS.Timeout | undefined;

  constructor(options: GatewayOptions) {
    this.#opts = options;
    this.#spec = options.spec;
    this.logger = options.logger;
    this.#launcher = new ProcessLauncher(options.logger);
    this.controller = new Controller({
      launcher: this.#launcher, clock: realClock, logger: options.logger, proxyQueued: () => this.proxy.queued(),
    });
    this.#metrics = new Metrics(() => this.controller.status());
    this.proxy = new Proxy({ http: options.listen.http_options, onRequest: (o) => this.#metrics.record(o) });
    this.controller.subscribe((s) => this.proxy.update(s));
    this.#admin = new AdminServer(this, options.adminToken);
  }

  async start(): Promise<GatewayAddresses> {
    const plan = await compilePlan(this.#spec);
    const { http_options: h, admin: a } = this.#opts.listen;
    const http = await this.proxy.listen(h.host, h.port);
    const admin = await this.#admin.listen(a.host, a.port);
    this.controller.apply(plan);
    this.controller.start();
    this.#statusTimer = setInterval(() => this.#logAppTransitions(), 200);
    this.#statusTimer.unref();
    return { http, admin };
  }

  /* ---- AdminBackend ---- */

  status(): StatusJson {
    return this.controller.status();
  }

  apply(text: string, options: { dryRun: boolean; source: string; baseDir?: string }): Promise<ApplyOutcome> {
    const run = this.#applying.then(() => this.#apply(text, options));
    this.#applying = run.catch(() => {});
    return run;
  }

  async #apply(text: string, { dryRun, source, baseDir }: { dryRun: boolean; source: string; baseDir?: string }): Promise<ApplyOutcome> {
    const loaded = loadSpecText(text, { file: source, baseDir: baseDir ?? this.#opts.cwd });
    if (!loaded.ok) {
      return { ok: false, error: ERRORS.SPEC_INVALID, message: `The spec is invalid (${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}); nothing changed.`, problems: loaded.problems };
    }
    const spec = loaded.spec;
    for (const key of ['http_options', 'admin'] as const) {
      if (!isDeepStrictEqual(spec[key], this.#opts.spec[key])) {
        return { ok: false, error: ERRORS.STATIC_CONFIG_CHANGED, message: `${key} cannot change while the gateway runs (it was ${JSON.stringify(this.#opts.spec[key])}); restart the gateway to change it. Nothing changed.` };
      }
    }
    const plan = await compilePlan(spec);
    const diff = diffPlans(this.controller.plan, plan);
    if (!dryRun) {
      this.#spec = spec;
      this.controller.apply(plan);
      const changed = diff.applications.filter((a) => a.action !== 'unchanged').map((a) => `${a.name} (${a.action})`);
      this.logger.info(`applied a new spec from ${source}: ${changed.length ? changed.join(', ') : 'no changes'}`, { scope: 'gateway' });
    }
    return { ok: true, body: diff };
  }

  deleteAll(): Promise<ApplyOutcome> {
    const empty = stringify({ http_options: this.#opts.spec.http_options, admin: this.#opts.spec.admin, applications: [] });
    return this.apply(empty, { dryRun: false, source: 'DELETE /api/serve/applications/' });
  }

  configYaml(): string {
    const { base_dir: _baseDir, ...spec } = this.#spec;
    return stringify(spec);
  }

  shutdown(): void {
    void this.stop().then(() => this.#opts.onShutdown?.());
  }

  metrics(req: IncomingMessage, res: ServerResponse): void {
    this.#metrics.handle(req, res);
  }

  /* ---- lifecycle ---- */

  /** One log line per application status change: what a user watches the log for. */
  #logAppTransitions(): void {
    const status = this.controller.status();
    for (const [name, app] of Object.entries(status.applications)) {
      if (this.#appStatus.get(name) === app.status) continue;
      this.#appStatus.set(name, app.status);
      const where = app.route_prefix === null ? '(bindings only, not exposed over HTTP)' : `at ${app.route_prefix}`;
      const line = `application ${name} ${app.status}${app.status === 'RUNNING' ? ` ${where}` : ''}${app.message ? `: ${app.message}` : ''}`;
      if (app.status === 'DEPLOY_FAILED' || app.status === 'UNHEALTHY') this.logger.error(line, { scope: 'gateway' });
      else this.logger.info(line, { scope: 'gateway' });
    }
    for (const name of this.#appStatus.keys()) {
      if (name in status.applications) continue;
      this.#appStatus.delete(name);
      this.logger.info(`application ${name} deleted`, { scope: 'gateway' });
    }
  }

  /** Drains the Proxy, then stops every replica and the admin API. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.logger.info('draining: no new connections; waiting for in-flight requests', { scope: 'gateway' });
      if (this.#statusTimer) clearInterval(this.#statusTimer);
      const graceS = Math.max(1, ...(this.controller.plan?.applications.flatMap((a) => a.deployments.map((d) => d.graceful_shutdown_timeout_s)) ?? []));
      await this.proxy.drain(graceS * 1000);
      await this.controller.shutdown(graceS * 1000 + 5000);
      await this.#launcher.close();
      await this.#admin.close();
      await this.#metrics.close();
      this.logger.info('stopped', { scope: 'gateway' });
    })();
    return this.#stopping;
  }
}
