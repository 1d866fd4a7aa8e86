// Answers with the path it received, so the prefix stripping is visible too.
export default {
  fetch(request) {
    const url = new URL(request.url);
    return { path: url.pathname, prefix: request.headers.get('x-forwarded-prefix') };
  },
};
