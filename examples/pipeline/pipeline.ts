/**
 * The ingress: takes the request body and walks it through the three stages. Each
 * `this.<stage>.<method>(...)` is a call to a replica of another deployment, chosen by the router.
 */
import type { Prediction } from './model.ts';

/** The part of a DeploymentHandle this example uses: any method of the bound deployment. */
type Handle<T> = { readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };

interface Stages {
  readonly preprocessor: Handle<{ clean(text: string): string }>;
  readonly model: Handle<{ predict(text: string): Prediction }>;
  readonly postprocessor: Handle<{ render(text: string, prediction: Prediction): { text: string; label: string; score: number; summary: string } }>;
}

export default class Pipeline {
  readonly preprocessor: Stages['preprocessor'];
  readonly model: Stages['model'];
  readonly postprocessor: Stages['postprocessor'];

  constructor({ handles }: { handles: Stages }) {
    this.preprocessor = handles.preprocessor;
    this.model = handles.model;
    this.postprocessor = handles.postprocessor;
  }

  async fetch(request: Request): Promise<Response> {
    const raw = request.method === 'GET' ? (new URL(request.url).searchParams.get('text') ?? '') : await request.text();
    if (raw.trim() === '') return Response.json({ error: 'empty_text', message: 'send some text in the body or ?text=' }, { status: 400 });
    const text = await this.preprocessor.clean(raw);
    const prediction = await this.model.predict(text);
    return Response.json(await this.postprocessor.render(text, prediction));
  }
}
