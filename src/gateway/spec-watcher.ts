/**
 * `run` applies each saved change of its spec file (and, with `--reload`, of the handler files
 * the Plan hashed). Editors save by rename as often as by write, so the watcher watches the
 * directories and filters by name, and waits for the writes to settle (debounce) before reading.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../telemetry/logger.ts';

export const DEBOUNCE_MS = 150;

export interface SpecWatcherOptions {
  readonly specPath: string;
  readonly logger: Logger;
  /** Applies the spec text; its problems are logged by the caller. */
  readonly apply: (text: string) => Promise<void>;
  /** With --reload: the files whose change re-applies the spec (handler modules). */
  readonly codeFiles?: () => readonly string[];
}

export class SpecWatcher {
  readonly #opts: SpecWatcherOptions;
  readonly #watchers = new Map<string, FSWatcher>();
  #timer: NodeJS.Timeout | undefined;
  #lastText: string | undefined;
  #why = '';
  #running: Promise<void> = Promise.resolve();

  constructor(options: SpecWatcherOptions) {
    this.#opts = options;
  }

  /** `initialText` is what was applied at start: saving it unchanged applies nothing. */
  start(initialText: string): void {
    this.#lastText = initialText;
    this.#rewatch();
  }

  /** Watches the directories of the spec file and (with reload) of every code file. */
  #rewatch(): void {
    const files = new Set([resolve(this.#opts.specPath), ...(this.#opts.codeFiles?.() ?? [])]);
    const dirs = new Map<string, Set<string>>();
    for (const f of files) {
      const d = dirname(f);
      if (!dirs.has(d)) dirs.set(d, new Set());
      dirs.get(d)!.add(basename(f));
    }
    for (const [dir, w] of this.#watchers) if (!dirs.has(dir)) { w.close(); this.#watchers.delete(dir); }
    for (const [dir, names] of dirs) {
      this.#watchers.get(dir)?.close();
      try {
        const w = watch(dir, (_event, name) => {
          if (name && names.has(name.toString())) this.#changed(resolve(dir, name.toString()));
        });
        w.on('error', (err) => this.#opts.logger.warn(`cannot watch ${dir}: ${err.message}`, { scope: 'watch' }));
        this.#watchers.set(dir, w);
      } catch (err) {
        this.#opts.logger.warn(`cannot watch ${dir}: ${(err as Error).message}`, { scope: 'watch' });
      }
    }
  }

  #changed(file: string): void {
    this.#why = file;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#running = this.#running.then(() => this.#reload()).catch((err) => {
        this.#opts.logger.error(`applying ${this.#opts.specPath} failed: ${(err as Error).message}`, { scope: 'watch' });
      });
    }, DEBOUNCE_MS);
  }

  async #reload(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#opts.specPath, 'utf8');
    } catch (err) {
      this.#opts.logger.warn(`cannot read ${this.#opts.specPath}: ${(err as Error).message}; keeping the running spec`, { scope: 'watch' });
      return;
    }
    const codeChange = this.#why !== resolve(this.#opts.specPath);
    // An unchanged spec is applied again only when code changed (--reload): compile sees new hashes.
    if (text === this.#lastText && !codeChange) return;
    this.#lastText = text;
    this.#opts.logger.info(`${codeChange ? `${this.#why} changed` : `${this.#opts.specPath} saved`}: applying`, { scope: 'watch' });
    await this.#opts.apply(text);
    if (this.#opts.codeFiles) this.#rewatch();
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }
}
