// The scenario format sends one request at a time, so this deployment makes the concurrent
// ones: it calls the gateway's own proxy (its address is the Host the request came in with).
export default {
  async fetch(request) {
    const origin = new URL(request.url).origin;
    const call = async (path) => {
      const res = await fetch(origin + path, { signal: AbortSignal.timeout(10000) });
      return { status: res.status, retry_after: res.headers.get('retry-after'), body: await res.json() };
    };
    const executing = call('/slow?ms=1500');           // takes the one slot (max_ongoing_requests: 1)
    await new Promise((r) => setTimeout(r, 300));
    const queued = call('/slow?ms=0');                 // waits in the queue (max_queued_requests: 1)
    await new Promise((r) => setTimeout(r, 300));
    const refused = await call('/slow?ms=0');          // the queue is full: 503 at once
    return { refused, executing: await executing, queued: await queued };
  },
};
