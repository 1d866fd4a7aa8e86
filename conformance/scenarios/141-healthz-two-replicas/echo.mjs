// Answers with the pid of the replica that served, so two replicas are told apart.
export default class Echo {
  fetch() {
    return { pid: process.pid };
  }
}
