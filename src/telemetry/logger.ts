/**
 * Logs go to stderr, one line per event: readable text by default, JSON lines with
 * `--log-format json` (for log shippers). Structured fields ride along in both.
 */
export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines all carry `fields` (e.g. a replica id). */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  readonly format?: LogFormat;
  readonly level?: LogLevel;
  readonly write?: (line: string) => void;
  /** Text lines start with an ISO time (default true). */
  readonly timestamps?: boolean;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: LoggerOptions = {}, bound: Record<string, unknown> = {}): Logger {
  const format = options.format ?? 'text';
  const min = RANK[options.level ?? (process.env.SWITCHYARD_LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? RANK.info;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[level] < min) return;
    const all = fields ? { ...bound, ...fields } : bound;
    if (format === 'json') {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }) + '\n');
      return;
    }
    let line = `${options.timestamps === false ? '' : `${new Date().toISOString()} `}${level.toUpperCase().padEnd(5)} `;
    if (typeof all.scope === 'string') line += `[${all.scope}] `;
    line += msg;
    for (const [k, v] of Object.entries(all)) {
      if (k === 'scope' || v === undefined) continue;
      line += ` ${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`;
    }
    write(line + '\n');
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}
