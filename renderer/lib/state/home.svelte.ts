import type { HomeSummary } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';

/** What Home lists and the footer shows: recent runs, prompts, labelling jobs, models and the device in use. */
export class HomeState {
  summary = $state.raw<HomeSummary | undefined>();
  error = $state.raw<ApiError | undefined>();

  async refresh(): Promise<void> {
    try {
      this.summary = await api['home.summary']({});
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    }
  }
}
