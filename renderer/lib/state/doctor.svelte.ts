import type { AppInfo, DoctorReport } from '../../../preload/contract.js';
import { api, ApiError } from '../api.js';

/** The engine's self-report, fetched on demand; components read its fields and call refresh(). */
export class DoctorCheck {
  report = $state.raw<DoctorReport | undefined>();
  info = $state.raw<AppInfo | undefined>();
  error = $state.raw<ApiError | undefined>();
  loading = $state(false);

  async refresh(): Promise<void> {
    this.loading = true;
    try {
      [this.report, this.info] = await Promise.all([api.doctor({}), api['app.info']({})]);
      this.error = undefined;
    } catch (error) {
      this.error = error instanceof ApiError ? error : new ApiError({ code: 'internal', message: String(error) });
    } finally {
      this.loading = false;
    }
  }
}
