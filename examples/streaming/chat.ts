/**
 * The ingress: `GET /chat?prompt=...` (or `POST /chat` with the prompt as the body) answers with
 * server-sent events, one `data:` event per token as TokenGenerator yields it, then
 * `data: [DONE]`. `GET /chat/stats` reports how the generator's streams ended.
 */
import type { GenerateOptions, StreamStats } from './token-generator.ts';

/** The part of the TokenGenerator handle this ingress uses. */
interface GeneratorHandle {
  generate(prompt: string, options?: GenerateOptions): AsyncIterable<string>;
  stats(): Promise<StreamStats>;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // Tells buffering reverse proxies (nginx) in front of the gateway to pass each event on at once.
  'x-accel-buffering': 'no',
};

export default class Chat {
  readonly generator: GeneratorHandle;

  constructor({ handles }: { handles: { generator: GeneratorHandle } }) {
    this.generator = handles.generator;
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/stats') return Response.json(await this.generator.stats());
    if (url.pathname !== '/') return Response.json({ error: 'not_found', message: `no route ${url.pathname}; try GET /?prompt=...` }, { status: 404 });
    const prompt = request.method === 'POST' ? await request.text() : (url.searchParams.get('prompt') ?? '');
    if (prompt.trim() === '') {
      return Response.json({ error: 'empty_prompt', message: 'send a prompt: GET /chat?prompt=... or POST /chat with the prompt as the body' }, { status: 400 });
    }
    const maxTokens = url.searchParams.has('max_tokens') ? Number(url.searchParams.get('max_tokens')) : undefined;
    if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens > 0)) {
      return Response.json({ error: 'bad_max_tokens', message: 'max_tokens must be a positive integer' }, { status: 400 });
    }
    const tokens = this.generator.generate(prompt, { maxTokens });
    // ReadableStream.from returns the generator below when the client disconnects; leaving its
    // `for await` returns the handle's stream, which stops TokenGenerator's generator.
    return new Response(ReadableStream.from(toEvents(tokens)), { headers: SSE_HEADERS });
  }
}

async function* toEvents(tokens: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  let index = 0;
  for await (const token of tokens) {
    yield encoder.encode(`data: ${JSON.stringify({ index: index++, token })}\n\n`);
  }
  yield encoder.encode('data: [DONE]\n\n');
}
