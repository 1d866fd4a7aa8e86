/**
 * A stand-in for a language model: `generate()` is an async generator that yields one token at a
 * time, after a fixed delay each, and counts how its streams end. A stream whose client went away
 * is returned by Switchyard: the `finally` below runs, and the stream counts as cancelled.
 */
import { getRequestContext } from 'switchyard';

export interface GenerateOptions {
  readonly maxTokens?: number;
}

export interface StreamStats {
  /** Streams being generated now. */
  readonly active: number;
  /** Streams that yielded every token. */
  readonly completed: number;
  /** Streams stopped early (the client disconnected, or the request timed out). */
  readonly cancelled: number;
  /** Tokens yielded, over all streams. */
  readonly tokens: number;
}

const REPLY = `Switchyard streams each token from the deployment that produces it to the client that
asked for it, through every handle in between, as soon as it exists. Nothing waits for the whole
answer, and nothing keeps generating once the client has gone.`;

export default class TokenGenerator {
  readonly intervalMs: number;
  readonly maxTokens: number;
  #active = 0;
  #completed = 0;
  #cancelled = 0;
  #tokens = 0;

  constructor({ args }: { args?: { token_interval_ms?: number; max_tokens?: number } }) {
    this.intervalMs = args?.token_interval_ms ?? 60;
    this.maxTokens = args?.max_tokens ?? 40;
  }

  async *generate(prompt: string, options: GenerateOptions = {}): AsyncGenerator<string> {
    const words = `You said: ${prompt.trim()}. ${REPLY}`.split(/\s+/).filter(Boolean);
    const limit = Math.min(options.maxTokens ?? this.maxTokens, words.length);
    const signal = getRequestContext()?.signal;
    let sent = 0;
    this.#active++;
    try {
      for (; sent < limit; sent++) {
        await sleep(this.intervalMs, signal);
        if (signal?.aborted) return;
        this.#tokens++;
        yield sent === 0 ? words[sent]! : ` ${words[sent]}`;
      }
    } finally {
      this.#active--;
      const requestId = getRequestContext()?.requestId ?? '-';
      if (sent < limit) {
        this.#cancelled++;
        console.log(`stream ${requestId} cancelled after ${sent} of ${limit} tokens`);
      } else {
        this.#completed++;
      }
    }
  }

  stats(): StreamStats {
    return { active: this.#active, completed: this.#completed, cancelled: this.#cancelled, tokens: this.#tokens };
  }
}

/** Resolves after `ms`, or at once when the call is cancelled (so `finally` runs without delay). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
