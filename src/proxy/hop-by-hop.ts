/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection and are never forwarded,
 * nor are the headers a `Connection` header names.
 */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

/** Headers named by a `Connection` header value, lower-cased; undefined when there are none. */
function connectionTokens(value: string | undefined): Set<string> | undefined {
  // The common values name no header: skip the split on the hot path.
  if (!value || value === 'keep-alive' || value === 'close') return undefined;
  const out = new Set<string>();
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase();
    if (name && name !== 'close' && name !== 'keep-alive') out.add(name);
  }
  return out.size > 0 ? out : undefined;
}

/**
 * The end-to-end headers of a request, as a flat `[name, value, ...]` list (what `rawHeaders`
 * gives and what undici takes, so no object is built per request). `skip` names headers the
 * caller sets itself.
 */
export function forwardRequestHeaders(raw: readonly string[], connection: string | undefined, skip: ReadonlySet<string>): string[] {
  const named = connectionTokens(connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || skip.has(lower) || named?.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** Response headers minus hop-by-hop ones, ready for `res.writeHead`. */
export function forwardResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const named = connectionTokens(typeof headers.connection === 'string' ? headers.connection : undefined);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = value;
  }
  return out;
}
