/**
 * Second stage: a toy sentiment model. `user_config` arrives through `reconfigure()`, after
 * construction and again whenever it changes in the spec, without restarting the replica.
 */
export interface Prediction {
  readonly label: 'positive' | 'negative' | 'neutral';
  readonly score: number;
}

const POSITIVE = new Set(['good', 'great', 'happy', 'love', 'excellent', 'nice', 'fun']);
const NEGATIVE = new Set(['bad', 'awful', 'sad', 'hate', 'terrible', 'boring', 'poor']);

export class SentimentModel {
  threshold = 0.1;

  reconfigure(userConfig: { threshold?: number }): void {
    if (typeof userConfig.threshold === 'number') this.threshold = userConfig.threshold;
  }

  predict(text: string): Prediction {
    const words = text.split(/[^\p{L}']+/u).filter(Boolean);
    let sum = 0;
    for (const w of words) sum += POSITIVE.has(w) ? 1 : NEGATIVE.has(w) ? -1 : 0;
    const score = words.length === 0 ? 0 : sum / words.length;
    const label = score > this.threshold ? 'positive' : score < -this.threshold ? 'negative' : 'neutral';
    return { label, score: Math.round(score * 1000) / 1000 };
  }

  checkHealth(): void {
    // A real model would check that its weights are loaded.
  }
}
