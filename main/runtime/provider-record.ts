import type { PromptModel } from './types.js';

/** What the run record keeps about the device: the provider in use and, when it is not the preferred one, why. */
export function providerRecord(model: Pick<PromptModel, 'providerDetail' | 'providerReason'>): string {
  return model.providerReason ? `${model.providerDetail} — ${model.providerReason}` : model.providerDetail;
}
