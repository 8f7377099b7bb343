import type { Device, ProviderInUse } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';

/** What a run asking for a device would run on here and why, asked of the engine before the run starts. */
export class DeviceCheck {
  result = $state.raw<ProviderInUse | undefined>();
  error = $state.raw<ApiError | undefined>();
  private asked: Device | null | undefined;

  /** Null asks for the Settings' default device, which may have changed since: asked again each time. */
  async check(device: Device | null): Promise<void> {
    if (device !== null && this.asked === device) return;
    this.asked = device;
    this.result = undefined;
    try {
      const result = await api['device.check'](device === null ? {} : { device });
      if (this.asked === device) [this.result, this.error] = [result, undefined];
    } catch (error) {
      if (this.asked === device) this.error = asApiError(error);
    }
  }
}
