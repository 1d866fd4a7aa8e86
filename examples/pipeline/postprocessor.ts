/** Last stage: turns a prediction into the JSON the client gets. */
import type { Prediction } from './model.ts';

const EMOJI: Record<Prediction['label'], string> = { positive: ':)', negative: ':(', neutral: ':|' };

export default class Postprocessor {
  readonly emoji: boolean;

  constructor({ args }: { args?: { emoji?: boolean } }) {
    this.emoji = args?.emoji ?? false;
  }

  render(text: string, prediction: Prediction): { text: string; label: string; score: number; summary: string } {
    const summary = `${prediction.label}${this.emoji ? ` ${EMOJI[prediction.label]}` : ''}`;
    return { text, label: prediction.label, score: prediction.score, summary };
  }
}
