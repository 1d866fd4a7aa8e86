/** First stage: normalizes the text. A plain object works as a handler as well as a class. */
export default {
  clean(text: string): string {
    return text.normalize('NFKC').replace(/\s+/g, ' ').trim().toLowerCase();
  },
};
