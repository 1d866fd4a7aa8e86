export default class Model {
  constructor({ args }) {
    this.args = args;
  }

  async fetch() {
    return { args: this.args };
  }
}
