// The hello handler every HTTP benchmark target serves: a WHATWG fetch handler, as a user writes it.
export default {
  fetch(_request) {
    return new Response('hello, world', { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  },
};
