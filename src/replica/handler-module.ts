/**
 * Loads a deployment's handler module and builds its instance: import (TypeScript through tsx),
 * pick the export, construct it. Each step throws a `PhaseError` so the replica can tell the
 * Controller which one failed (`FailedMessage.phase`).
 */
import { createRequire } from 'node:module';
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JsonValue } from '../spec/types.ts';

/** The context handed to a handler's constructor or `init(ctx)`. */
export interface HandlerContext {
  /** The deployment's `args` from the spec (`undefined` when absent). */
  readonly args: JsonValue | undefined;
  /** One DeploymentHandle per binding, by binding name. */
  readonly handles: Readonly<Record<string, unknown>>;
}

/** The methods the runtime calls on an instance; any other method is reachable through a handle. */
export interface Handler {
  fetch?(request: Request): unknown;
  reconfigure?(userConfig: JsonValue | undefined): unknown;
  checkHealth?(): unknown;
  close?(): unknown;
  [name: string]: unknown;
}

export type Phase = 'import' | 'construct' | 'reconfigure';

/** An error from one step of bringing a handler up. */
export class PhaseError extends Error {
  readonly phase: Phase;
  constructor(phase: Phase, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'PhaseError';
    this.phase = phase;
  }
}

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);
let tsxRegistered: Promise<void> | undefined;

/**
 * Registers tsx's loader once. It is resolved from switchyard's own install, so a user's project
 * needs no tsx; it (not Node's type stripping) runs the whole TypeScript language: enums,
 * parameter properties, extensionless relative imports.
 */
function registerTsx(): Promise<void> {
  tsxRegistered ??= (async () => {
    const require = createRequire(import.meta.url);
    const api = (await import(pathToFileURL(require.resolve('tsx/esm/api')).href)) as { register(): unknown };
    api.register();
  })();
  return tsxRegistered;
}

/** Imports the module at `handlerPath` (absolute, or relative to the working directory). */
export async function importHandlerModule(handlerPath: string): Promise<Record<string, unknown>> {
  const file = resolve(handlerPath);
  try {
    if (TS_EXTENSIONS.has(extname(file))) await registerTsx();
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new PhaseError('import', err);
  }
}

/**
 * The export to serve: `exportName`, or the default export. A TypeScript module in a CommonJS
 * project is compiled to CommonJS by tsx, so its exports arrive wrapped in `default` with
 * `__esModule`: unwrap them.
 */
export function pickExport(mod: Record<string, unknown>, handlerPath: string, exportName: string | undefined): unknown {
  let exports: Record<string, unknown> = mod;
  const wrapped = mod.default as Record<string, unknown> | undefined;
  if (wrapped !== null && typeof wrapped === 'object' && wrapped.__esModule === true) exports = wrapped;
  const name = exportName ?? 'default';
  let value = exports[name];
  // CommonJS named exports that Node's static analysis missed live on `module.exports`.
  if (value === undefined && exportName !== undefined && wrapped !== null && typeof wrapped === 'object') value = wrapped[exportName];
  if (value !== undefined) return value;
  const found = Object.keys(exports).filter((k) => k !== 'module.exports' && k !== '__esModule');
  const list = found.length === 0 ? 'it has no exports' : `its exports are: ${found.join(', ')}`;
  const file = basename(handlerPath);
  const message = exportName === undefined
    ? `${file} has no default export; ${list}. Export the handler as default or pick one with '${file}#Name'`
    : `${file} has no export named '${exportName}'; ${list}`;
  throw new PhaseError('import', new Error(message));
}

/** Builds the instance: `new X(ctx)` for a class, `await obj.init(ctx)` for a plain object. */
export async function constructHandler(exported: unknown, ctx: HandlerContext, what: string): Promise<Handler> {
  try {
    if (typeof exported === 'function') {
      if (exported.prototype === undefined) {
        throw new TypeError(`${what} is a function without a prototype (an arrow or async function); export a class or an object`);
      }
      const instance = new (exported as new (c: HandlerContext) => unknown)(ctx);
      if (instance === null || typeof instance !== 'object') throw new TypeError(`${what}'s constructor did not return an object`);
      return instance as Handler;
    }
    if (exported !== null && typeof exported === 'object') {
      const handler = exported as Handler;
      if (typeof handler.init === 'function') await handler.init(ctx);
      return handler;
    }
    throw new TypeError(`${what} is ${exported === null ? 'null' : `a ${typeof exported}`}; export a class or an object`);
  } catch (err) {
    throw new PhaseError('construct', err);
  }
}
