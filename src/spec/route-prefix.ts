/**
 * The rules for a route prefix, one message per rule, so `route_prefix: api/` is told what is
 * wrong rather than that it fails a regular expression. The schema's `pattern` says the same for
 * editors; this is what `validate` prints.
 */

/** What is wrong with `prefix`, or undefined when it is a valid route prefix. */
export function routePrefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith('/')) return `must start with '/' (write "${suggest(prefix)}")`;
  if (prefix.includes('{') || prefix.includes('}')) {
    return "must not contain '{' or '}' (path parameters are the handler's business: it receives the rest of the path)";
  }
  if (prefix.length > 1 && prefix.endsWith('/')) return `must not end with '/' (write "${suggest(prefix)}")`;
  if (prefix.includes('//')) return "must not contain an empty segment ('//')";
  return undefined;
}

/** The prefix the user most likely meant: one leading '/', no trailing '/'. */
function suggest(prefix: string): string {
  return `/${prefix.replace(/^\/+|\/+$/g, '')}`;
}
