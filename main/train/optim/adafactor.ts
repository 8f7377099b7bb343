import { DEFAULT_LR } from '../../choices.js';
import { checkState, type OptimizerState, type PromptOptimizer } from './types.js';

/**
 * Adafactor exactly as transformers.optimization.Adafactor computes it (Shazeer & Stern 2018), with the settings
 * Lester et al. 2021 use for prompt tuning as defaults: constant lr 0.3 (relative_step=False,
 * scale_parameter=False, warmup_init=False), second-moment decay beta2_t = 1 - t^decayRate with decayRate -0.8,
 * eps (1e-30, 1e-3), update clipping at RMS 1.0, no first moment, weight decay 1e-5 (applied as p -= wd·lr·p).
 * A matrix keeps factored second moments: one value per row and one per column.
 * Moments are stored as float32 like PyTorch's; each element's arithmetic is done in float64 and rounded once.
 */
export interface AdafactorOptions {
  lr?: number;
  eps1?: number;
  /** Only used by scaleParameter, which Lester's recipe turns off; kept so the option set matches HF's. */
  eps2?: number;
  clipThreshold?: number;
  decayRate?: number;
  weightDecay?: number;
  scaleParameter?: boolean;
}

export class Adafactor implements PromptOptimizer {
  readonly kind = 'adafactor' as const;
  private readonly lr: number;
  private readonly eps1: number;
  private readonly eps2: number;
  private readonly clipThreshold: number;
  private readonly decayRate: number;
  private readonly weightDecay: number;
  private readonly scaleParameter: boolean;
  private t = 0;
  private row: Float32Array; // [rows]
  private col: Float32Array; // [cols]
  private readonly update: Float64Array; // [rows * cols], scratch

  constructor(
    private readonly rows: number,
    private readonly cols: number,
    options: AdafactorOptions = {},
  ) {
    this.lr = options.lr ?? DEFAULT_LR.adafactor;
    this.eps1 = options.eps1 ?? 1e-30;
    this.eps2 = options.eps2 ?? 1e-3;
    this.clipThreshold = options.clipThreshold ?? 1.0;
    this.decayRate = options.decayRate ?? -0.8;
    this.weightDecay = options.weightDecay ?? 1e-5;
    this.scaleParameter = options.scaleParameter ?? false;
    this.row = new Float32Array(rows);
    this.col = new Float32Array(cols);
    this.update = new Float64Array(rows * cols);
  }

  learningRate(): number {
    return this.lr;
  }

  step(param: Float32Array, grad: Float32Array): void {
    const { rows, cols, row, col, update } = this;
    if (param.length !== rows * cols || grad.length !== rows * cols) throw new RangeError(`Adafactor expects ${rows}×${cols} values`);
    this.t++;
    const lr = this.scaleParameter ? Math.max(this.eps2, rms(param)) * this.lr : this.lr;
    const beta2t = 1 - Math.pow(this.t, this.decayRate);

    // Row means over columns and column means over rows of grad² + eps1.
    const colSum = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        const g = grad[r * cols + c];
        const sq = Math.fround(g * g + this.eps1);
        sum += sq;
        colSum[c] += sq;
      }
      row[r] = beta2t * row[r] + (1 - beta2t) * (sum / cols);
    }
    for (let c = 0; c < cols; c++) col[c] = beta2t * col[c] + (1 - beta2t) * (colSum[c] / rows);

    // v̂[r, c] = row[r] · col[c] / mean(row); update = grad / sqrt(v̂), then clipped to RMS ≤ clipThreshold.
    let rowMean = 0;
    for (let r = 0; r < rows; r++) rowMean += row[r];
    rowMean /= rows;
    let sumSq = 0;
    for (let r = 0; r < rows; r++) {
      const rFactor = 1 / Math.sqrt(row[r] / rowMean);
      for (let c = 0; c < cols; c++) {
        const u = rFactor * (1 / Math.sqrt(col[c])) * grad[r * cols + c];
        update[r * cols + c] = u;
        sumSq += u * u;
      }
    }
    const scale = lr / Math.max(1, Math.sqrt(sumSq / (rows * cols)) / this.clipThreshold);
    const decay = this.weightDecay * lr;
    // Two roundings, as PyTorch's p.add_(p, alpha=-wd·lr) followed by p.add_(-update).
    for (let i = 0; i < param.length; i++) {
      const p = Math.fround(param[i] - decay * param[i]);
      param[i] = p - update[i] * scale;
    }
  }

  state(): OptimizerState {
    return { kind: this.kind, step: this.t, tensors: { exp_avg_sq_row: this.row.slice(), exp_avg_sq_col: this.col.slice() } };
  }

  load(state: OptimizerState): void {
    checkState(state, this.kind, { exp_avg_sq_row: this.rows, exp_avg_sq_col: this.cols });
    this.t = state.step;
    this.row = state.tensors.exp_avg_sq_row.slice();
    this.col = state.tensors.exp_avg_sq_col.slice();
  }
}

function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / x.length);
}
