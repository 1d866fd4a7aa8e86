/**
 * A deployment is a class: constructed once per replica with the spec's `args`, then `fetch`
 * answers each HTTP request. Returning a string answers 200 text/plain.
 */
interface HelloArgs {
  readonly greeting?: string;
}

export default class Hello {
  readonly greeting: string;

  constructor({ args }: { args?: HelloArgs }) {
    this.greeting = args?.greeting ?? 'Hello';
  }

  fetch(request: Request): string {
    const name = new URL(request.url).searchParams.get('name') ?? 'world';
    return `${this.greeting}, ${name}!\n`;
  }
}
