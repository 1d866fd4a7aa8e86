interface Args { greeting: string }

export default class Hello {
  greeting: string;

  constructor({ args }: { args: Args }) {
    this.greeting = args.greeting;
  }

  fetch(_request: Request): string {
    return `${this.greeting}, world`;
  }
}
