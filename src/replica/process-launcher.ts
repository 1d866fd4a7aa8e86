/**
 * Launches each Replica as its own Node.js process (the same Node binary as the gateway), with an
 * IPC channel for control and a Unix socket for data. Replica output is forwarded line by line,
 * tagged with the replica id, so interleaved logs stay attributable.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../telemetry/logger.ts';
import type { LaunchOptions, ReplicaEvents, ReplicaLauncher, ReplicaProcess } from './launcher.ts';
import type { FromReplica, ToReplica } from './protocol.ts';

// Running from src/ (tests) the entry is main.ts; from dist/ it is main.js.
const MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './main.ts' : './main.js', import.meta.url));

const LEVEL_RE = /^(DEBUG|INFO|WARN|ERROR) +(.*)$/;

export class ProcessLauncher implements ReplicaLauncher {
  readonly #dir: string;
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
    // Unix socket paths are limited to ~107 bytes: keep the directory short.
    this.#dir = mkdtempSync(join(tmpdir(), 'swy-'));
  }

  socketPathFor(replicaId: string): string {
    return join(this.#dir, `${replicaId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(-60)}.sock`);
  }

  launch({ init, env }: LaunchOptions, events: ReplicaEvents): ReplicaProcess {
    const child = spawn(process.execPath, [MAIN], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ...env, SWITCHYARD_REPLICA_ID: init.replica_id },
      serialization: 'advanced',
    });
    const log = this.#logger.child({ replica: init.replica_id });
    // The runtime's own lines start with their level; a handler's console output has none:
    // stdout is info, stderr a warning.
    const forward = (fallback: 'info' | 'warn') => (line: string): void => {
      const m = LEVEL_RE.exec(line);
      const level = m ? (m[1]!.toLowerCase() as 'debug' | 'info' | 'warn' | 'error') : fallback;
      log[level](m ? m[2]! : line, { scope: 'replica' });
    };
    createInterface({ input: child.stdout! }).on('line', forward('info'));
    createInterface({ input: child.stderr! }).on('line', forward('warn'));
    let exited = false;
    const exit = (reason: string, code: number | null, signal: string | null): void => {
      if (exited) return;
      exited = true;
      events.onExit(reason, code, signal);
    };
    child.on('message', (m) => events.onMessage(m as FromReplica));
    child.on('error', (err) => exit(`spawn failed: ${err.message}`, null, null));
    child.on('exit', (code, signal) => exit(signal ? `signal ${signal}` : `exit code ${code}`, code, signal));
    child.send(init);
    return {
      get pid() {
        return child.pid;
      },
      send(message: ToReplica) {
        // A replica that is exiting has no channel; the exit event tells the Controller.
        if (child.connected) child.send(message, (err) => err && log.debug(`send failed: ${err.message}`));
      },
      kill(signal: NodeJS.Signals = 'SIGKILL') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
  }

  async close(): Promise<void> {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
