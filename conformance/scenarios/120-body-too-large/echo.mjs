// Answers with the size of the body it read: a refused body never gets here.
export default {
  async fetch(request) {
    const text = await request.text();
    return { bytes: text.length };
  },
};
