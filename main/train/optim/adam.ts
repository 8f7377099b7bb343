import { DEFAULT_LR } from '../../choices.js';
import { checkState, type OptimizerState, type PromptOptimizer } from './types.js';

/**
 * Adam (Kingma & Ba 2015) as torch.optim.Adam, and AdamW (Loshchilov & Hutter 2019) as torch.optim.AdamW:
 * `adam` adds weightDecay·p to the gradient (L2), `adamw` shrinks p by lr·weightDecay before the update.
 * Bias-corrected moments, eps added to sqrt(v̂). Moments stored as float32; arithmetic per element in float64.
 */
export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class Adam implements PromptOptimizer {
  private readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private t = 0;
  private m: Float32Array;
  private v: Float32Array;

  constructor(
    readonly kind: 'adam' | 'adamw',
    private readonly size: number,
    options: AdamOptions = {},
  ) {
    this.lr = options.lr ?? DEFAULT_LR[kind];
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? (kind === 'adamw' ? 0.01 : 0);
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  learningRate(): number {
    return this.lr;
  }

  step(param: Float32Array, grad: Float32Array): void {
    if (param.length !== this.size || grad.length !== this.size) throw new RangeError(`Adam expects ${this.size} values`);
    this.t++;
    const { lr, beta1, beta2, eps, weightDecay, m, v } = this;
    const c1 = 1 - Math.pow(beta1, this.t);
    const c2 = 1 - Math.pow(beta2, this.t);
    const decoupled = this.kind === 'adamw';
    for (let i = 0; i < param.length; i++) {
      let p = param[i];
      let g = grad[i];
      if (decoupled) p -= lr * weightDecay * p;
      else g += weightDecay * p;
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      param[i] = p - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
    }
  }

  state(): OptimizerState {
    return { kind: this.kind, step: this.t, tensors: { exp_avg: this.m.slice(), exp_avg_sq: this.v.slice() } };
  }

  load(state: OptimizerState): void {
    checkState(state, this.kind, { exp_avg: this.size, exp_avg_sq: this.size });
    this.t = state.step;
    this.m = state.tensors.exp_avg.slice();
    this.v = state.tensors.exp_avg_sq.slice();
  }
}
