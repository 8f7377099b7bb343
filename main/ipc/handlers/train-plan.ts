/**
 * train.plan: the memory plan of the run train.start would start, for the Train step to show before Start. The
 * engine worker tokenises the dataset (cached, as the run will) but loads no model weights and starts nothing.
 */
import type { TrainingPlan, ValidRequestOf } from '../../../preload/contract.js';
import { NO_FIT_HINT, type FitSuggestion } from '../../weights/memory-plan.js';
import type { HandlerContext } from '../context.js';
import { libraryOf } from './library-connection.js';
import { trainingInput } from './train-input.js';

/** What would fit, in the app's words (never a CLI flag). */
export function suggestionText(fit: FitSuggestion): string {
  const ways = [
    ...(fit.batch ? [`a batch size of ${fit.batch}`] : []),
    ...(fit.width ? [`${fit.width} model weights`] : []),
    ...(fit.inputTokens ? [`a maximum input length of ${fit.inputTokens} tokens`] : []),
  ];
  return ways.length ? `Try ${ways.join(', or ')}.` : NO_FIT_HINT;
}

export async function planRun(context: HandlerContext, r: ValidRequestOf<'train.plan'>): Promise<TrainingPlan> {
  const config = trainingInput(context.dataDir, libraryOf(context), r);
  const { plan, inputTokens, suggestion } = await context.worker.run('train.plan', { dataDir: context.dataDir, config });
  return { ...plan, inputTokens, suggestion: planSuggestion(suggestion) };
}

/** A plan's fit suggestion as the contract carries it. */
export function planSuggestion(suggestion: FitSuggestion | null): TrainingPlan['suggestion'] {
  return (
    suggestion && {
      batchSize: suggestion.batch ?? null,
      weights: suggestion.width ?? null,
      maxInputLength: suggestion.inputTokens ?? null,
      message: suggestionText(suggestion),
    }
  );
}
