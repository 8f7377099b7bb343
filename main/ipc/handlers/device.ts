import type { ProviderInUse } from '../../../preload/contract.js';
import { chooseProvider } from '../../runtime/providers-probe.js';
import { defaultThreads } from '../../runtime/session.js';
import type { DevicePreference } from '../../runtime/types.js';

/**
 * The provider the default device resolves to here (probed once per process by chooseProvider). A forced device
 * that cannot run is reported among the skipped ones, with what `auto` would use instead.
 */
export async function providerInUse(preference: DevicePreference, threads: number | null): Promise<ProviderInUse> {
  const n = threads ?? defaultThreads();
  let skipped: ProviderInUse['skipped'] = [];
  let choice;
  try {
    choice = await chooseProvider(preference);
  } catch (error) {
    skipped = [{ provider: preference, reason: (error as Error).message }];
    choice = await chooseProvider('auto');
  }
  const name = choice.provider;
  return {
    name,
    threads: n,
    label: name === 'cpu' ? `CPU · ${n} thread${n === 1 ? '' : 's'}` : name.toUpperCase(),
    skipped: [...skipped, ...choice.skipped],
  };
}
