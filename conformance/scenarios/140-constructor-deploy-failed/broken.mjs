// A deployment whose constructor always throws: every replica fails to start.
export default class Broken {
  constructor() {
    throw new Error('model file /models/missing.bin not found');
  }

  fetch() {
    return 'never served';
  }
}
