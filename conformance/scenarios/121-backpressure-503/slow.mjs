// Holds its only slot for a while, so a second request queues and a third finds the queue full.
export default {
  async fetch(request) {
    const ms = Number(new URL(request.url).searchParams.get('ms') ?? 0);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { slept: ms };
  },
};
