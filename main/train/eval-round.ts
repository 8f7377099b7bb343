/**
 * The trainer's evaluations: every task on its own validation data with its own prompt, each prompt's best kept by
 * the rule of best.ts (a prompt shared by several tasks is judged by the mean over them), early stopping once no
 * prompt has improved for `patience` evaluations, and the zero-shot baseline before the first step.
 */
import type { PromptModel, SoftPrompt } from '../runtime/types.js';
import { judgeTest, promptWarnings, type MajorityBaseline, type TestMetrics } from './baselines.js';
import { judge, type Score, type Verdict } from './best.js';
import type { RunSettings } from './config.js';
import type { EncodedExample } from './encode.js';
import { evaluate, metricValue, type EvalMetricName, type EvalMetrics, type EvalOptions } from './evaluate.js';
import { summarizeEval, type EvalSummary } from './eval-summary.js';
import type { TrainingEvent } from './events.js';
import type { EvalRecord, TrainerState } from './trainer-state.js';

/** A task as the trainer sees it: its examples and how its prompt is judged. */
export interface LoopTask {
  name: string;
  train: EncodedExample[];
  validation: EncodedExample[];
  /** Empty for free-text targets. */
  labels: string[];
  /** Target ids of each label (eos included); empty for free text. */
  labelTargets: number[][];
  /** The metric its prompt is kept by (chooseMetric). */
  metric: EvalMetricName;
  majority: MajorityBaseline | null;
}

export interface Evaluator {
  model: PromptModel;
  config: Pick<RunSettings, 'evalBatchSize' | 'maxNewTokens' | 'patience'>;
  tasks: LoopTask[];
  prompts: SoftPrompt[];
  state: TrainerState;
  emit: (e: TrainingEvent) => void;
  signal?: AbortSignal;
}

/** The prompt task k trains: its own, or the one all tasks share. */
export function promptOf(e: { prompts: readonly unknown[] }, task: number): number {
  return e.prompts.length === 1 ? 0 : task;
}

function evalOptions(e: Evaluator, task: LoopTask): EvalOptions {
  return {
    labels: task.labels,
    labelTargets: task.labelTargets,
    batchSize: e.config.evalBatchSize,
    maxNewTokens: e.config.maxNewTokens,
    signal: e.signal,
  };
}

/** The mean score of a prompt's evaluations at one step (one per task it trains). */
function scoreOf(e: Evaluator, records: EvalRecord[]): Score {
  const mean = (f: (r: EvalRecord) => number) => records.reduce((s, r) => s + f(r), 0) / records.length;
  return { value: mean((r) => metricValue(r.metrics, e.tasks[r.task].metric)), exactMatch: mean((r) => r.metrics.exactMatch) };
}

/** Judges prompt j by this round's evaluations and keeps it when it is the best so far; null when it has none. */
function keepBest(e: Evaluator, j: number, round: EvalRecord[]): Verdict | null {
  const mine = round.filter((r) => promptOf(e, r.task) === j);
  if (!mine.length) return null;
  const p = e.state.prompts[j];
  const score = scoreOf(e, mine);
  const atBest = p.best && e.state.evals.filter((r) => r.step === p.best!.step && promptOf(e, r.task) === j);
  const verdict = judge(score, p.best && { value: p.best.value, exactMatch: atBest!.length ? scoreOf(e, atBest!).exactMatch : -1 });
  if (verdict !== 'worse') p.best = { step: e.state.step, value: score.value, prompt: e.prompts[j].data.slice() };
  return verdict;
}

/** Evaluates every task that has validation data; true when patience has run out. */
export async function evaluationRound(e: Evaluator): Promise<boolean> {
  const { state, tasks } = e;
  const evaluated = tasks.map((_, k) => k).filter((k) => tasks[k].validation.length > 0);
  if (!evaluated.length) return false;
  state.pendingEval = true;
  const round: EvalRecord[] = [];
  for (const k of evaluated)
    round.push({
      step: state.step,
      task: k,
      metrics: await evaluate(e.model, e.prompts[promptOf(e, k)], tasks[k].validation, evalOptions(e, tasks[k])),
    });
  // Judged against the evaluations before this round, then recorded with it.
  const verdicts = state.prompts.map((_, j) => keepBest(e, j, round));
  state.evals.push(...round);
  if (state.step === 0) for (const r of round) state.zeroShot[r.task] = r.metrics;
  state.pendingEval = false;
  if (verdicts.includes('improved')) state.sinceImprovement = 0;
  else state.sinceImprovement++;
  for (const r of round) {
    const j = promptOf(e, r.task);
    const t = tasks[r.task];
    const warnings = roundWarnings(r, t, state.zeroShot[r.task]);
    e.emit({
      kind: 'eval',
      task: r.task,
      step: r.step,
      metrics: r.metrics,
      summary: summarizeEval(r.step, r.metrics),
      improved: verdicts[j] === 'improved',
      bestStep: state.prompts[j].best?.step ?? null,
      warnings,
    });
  }
  return e.config.patience !== undefined && state.sinceImprovement >= e.config.patience;
}

/** The zero-shot baseline: what each task's initial prompt scores, so that a trained prompt's score can be judged. */
/**
 * A validation evaluation's warnings, against the task's majority and zero-shot baselines; the round at step 0 is the
 * zero-shot baseline itself, so it is not judged against it. The run's result says the same of its kept evaluation.
 */
export function roundWarnings(r: EvalRecord, t: Pick<LoopTask, 'labels' | 'metric' | 'majority'>, zeroShot: EvalMetrics | null): string[] {
  const initial = r.step > 0 && zeroShot ? summarizeEval(0, zeroShot) : null;
  return promptWarnings(r.metrics, t.labels, t.metric, t.majority, 'validation', initial);
}

export async function zeroShotRound(e: Evaluator): Promise<void> {
  for (const [k, task] of e.tasks.entries()) {
    if (!task.validation.length || e.state.zeroShot[k] !== null) continue;
    const metrics = await evaluate(e.model, e.prompts[promptOf(e, k)], task.validation, evalOptions(e, task));
    e.state.zeroShot[k] = metrics;
    e.emit({ kind: 'zero-shot', task: k, metrics, summary: summarizeEval(0, metrics) });
  }
}

/**
 * A resumed run's zero-shot baselines, restored from its checkpoint, said again: whoever follows the resumed run (the
 * app after a crash, a CLI log) has not seen them, and judges every evaluation against them.
 */
export function restoredZeroShot(e: Evaluator): void {
  for (const [k, metrics] of e.state.zeroShot.entries())
    if (metrics !== null) e.emit({ kind: 'zero-shot', task: k, metrics, summary: summarizeEval(0, metrics) });
}

/**
 * The honest score, once the run has ended: each task's kept prompt (its best, else its last) on the task's test
 * split, which chose no step, and its initial prompt (`initial`, one per trained prompt) on the same rows, so that
 * the headline has a zero-shot baseline of its own rows. Returns each task's test evaluations (null for a task
 * without a test split).
 */
export async function testRound(e: Evaluator, tests: EncodedExample[][], initial: Float32Array[]): Promise<(TestMetrics | null)[]> {
  const scored: (TestMetrics | null)[] = [];
  for (const [k, task] of e.tasks.entries()) {
    const examples = tests[k];
    if (!examples.length) {
      scored.push(null);
      continue;
    }
    const j = promptOf(e, k);
    const kept = e.state.prompts[j];
    const step = kept.best?.step ?? e.state.step;
    e.emit({ kind: 'testing', task: k, step, examples: examples.length });
    const length = e.prompts[j].length;
    const options = evalOptions(e, task);
    const metrics = await evaluate(e.model, { length, data: kept.best?.prompt ?? kept.data }, examples, options);
    const zeroShot = await evaluate(e.model, { length, data: initial[j] }, examples, options);
    const tested = { kept: metrics, zeroShot };
    e.emit({ kind: 'test', task: k, metrics, score: judgeTest(step, tested, task.labels, task.metric) });
    scored.push(tested);
  }
  return scored;
}

/** The latest evaluation of the first task, which step events carry. */
export function latestEval(state: TrainerState): EvalSummary | null {
  const last = state.evals.findLast((r) => r.task === 0);
  return last ? summarizeEval(last.step, last.metrics) : null;
}
