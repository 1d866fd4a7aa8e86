/** Types of hello-handler.mjs, for the benchmark's direct server. */
declare const hello: { fetch(request: Request): Response };
export default hello;
