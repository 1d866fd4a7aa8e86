/**
 * `switchyard run FILE`: the whole system in the foreground (gateway, controller, replicas),
 * logging to stderr, until Ctrl-C / SIGTERM, which drain and stop everything.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ERRORS } from '../../errors.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { formatProblem, loadSpecFile } from '../../spec/load.ts';
import type { Spec } from '../../spec/types.ts';
import { createLogger, type LogFormat, type Logger } from '../../telemetry/logger.ts';
import { SpecWatcher } from '../../gateway/spec-watcher.ts';
import { EXIT } from '../exit-codes.ts';

interface RunOptions {
  host?: string;
  port?: number;
  adminHost?: string;
  adminPort?: number;
  watch: boolean;
  reload?: boolean;
  logFormat: LogFormat;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535 (0 picks a free port).');
  return n;
}

/** Command-line overrides win over the file's `http_options` and `admin`. */
export function withOverrides(spec: Spec, o: Pick<RunOptions, 'host' | 'port' | 'adminHost' | 'adminPort'>): Spec {
  return Object.freeze({
    ...spec,
    http_options: Object.freeze({ ...spec.http_options, ...(o.host !== undefined && { host: o.host }), ...(o.port !== undefined && { port: o.port }) }),
    admin: Object.freeze({ ...spec.admin, ...(o.adminHost !== undefined && { host: o.adminHost }), ...(o.adminPort !== undefined && { port: o.adminPort }) }),
  });
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run the gateway, the controller and every replica in the foreground.')
    .argument('<file>', 'the spec (serve.yaml)')
    .option('--host <host>', 'proxy host (overrides http_options.host)')
    .option('--port <port>', 'proxy port; 0 picks a free one (overrides http_options.port)', parsePort)
    .option('--admin-host <host>', 'admin API host (overrides admin.host)')
    .option('--admin-port <port>', 'admin API port; 0 picks a free one (overrides admin.port)', parsePort)
    .option('--no-watch', 'do not apply saved changes of the spec file')
    .option('--reload', 'also restart deployments whose handler files change')
    .addOption(new Option('--log-format <format>', 'log line format').choices(['text', 'json']).default('text'))
    .addHelpText('after', `
Examples:
  $ switchyard run examples/hello/serve.yaml
  $ switchyard run serve.yaml --port 0 --admin-port 0     # free ports, printed at start
  $ switchyard run serve.yaml --log-format json 2> gateway.log`)
    .action(async (file: string, options: RunOptions) => {
      process.exitCode = await run(file, options);
    });
}

async function run(file: string, options: RunOptions): Promise<number> {
  const logger = createLogger({ format: options.logFormat });
  const loaded = await loadSpecFile(file);
  if (!loaded.ok) {
    for (const p of loaded.problems) process.stderr.write(`${formatProblem(p)}\n`);
    process.stderr.write(`switchyard: ${file} is invalid; nothing was started.\n`);
    return EXIT.FAILED;
  }
  const listen = withOverrides(loaded.spec, options);
  const adminToken = process.env.SWITCHYARD_ADMIN_TOKEN || undefined;
  if (!adminToken && !isLoopback(listen.admin.host)) {
    process.stderr.write(`switchyard: ${ERRORS.ADMIN_TOKEN_REQUIRED.message} The admin host is ${listen.admin.host}; set SWITCHYARD_ADMIN_TOKEN, or keep the admin API on 127.0.0.1.\n`);
    return ERRORS.ADMIN_TOKEN_REQUIRED.exitCode;
  }
  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((r) => (resolveStopped = r));
  // Loaded here, not at the top: the gateway pulls in the proxy and OpenTelemetry, which every
  // other command (apply, status, ...) would otherwise pay for at each start.
  const { Gateway } = await import('../../gateway/gateway.ts');
  const gateway = new Gateway({
    spec: loaded.spec, listen, logger, adminToken, cwd: process.cwd(),
    onShutdown: () => resolveStopped(EXIT.OK),
  });
  let addresses;
  try {
    addresses = await gateway.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    const why = e.code === 'EADDRINUSE'
      ? `${e.address}:${e.port} is already in use (choose another with --port / --admin-port, or 0 for a free one)`
      : e.message;
    process.stderr.write(`switchyard: cannot start: ${why}\n`);
    await gateway.stop();
    return EXIT.FAILED;
  }
  logger.info(`proxy listening on http://${hostForUrl(addresses.http.address)}:${addresses.http.port}`, { scope: 'gateway' });
  logger.info(`admin API listening on http://${hostForUrl(addresses.admin.address)}:${addresses.admin.port}`, { scope: 'gateway' });

  let signals = 0;
  const onSignal = (signal: string): void => {
    signals++;
    if (signals > 1) {
      logger.warn(`${signal} again: stopping now`, { scope: 'gateway' });
      resolveStopped(130);
      return;
    }
    logger.info(`${signal} received`, { scope: 'gateway' });
    gateway.stop().then(() => resolveStopped(EXIT.OK), () => resolveStopped(EXIT.FAILED));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const watcher = options.watch || options.reload ? watchSpec(file, gateway, logger, options.reload === true) : undefined;
  const code = await stopped;
  watcher?.close();
  // Replicas exit with their IPC channel; nothing else should keep the process.
  setTimeout(() => process.exit(code), 100).unref();
  return code;
}

/** Applies each saved change of the spec file; an invalid save is reported and changes nothing. */
function watchSpec(file: string, gateway: Gateway, logger: Logger, reload: boolean): SpecWatcher {
  const watcher = new SpecWatcher({
    specPath: file,
    logger,
    apply: async (text) => {
      const outcome = await gateway.apply(text, { dryRun: false, source: file, baseDir: dirname(resolve(file)) });
      if (outcome.ok) return;
      logger.error(`${file} was not applied: ${outcome.message}`, { scope: 'watch' });
      for (const p of outcome.problems ?? []) logger.error(formatProblem(p), { scope: 'watch' });
    },
    ...(reload && { codeFiles: () => [...(gateway.controller.plan?.deployments.values() ?? [])].flatMap((d) => d.code_files) }),
  });
  watcher.start(readFileSync(file, 'utf8'));
  return watcher;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
