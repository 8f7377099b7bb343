import type { ProviderInUse } from '../../../preload/contract.js';
import { chooseProvider, PROVIDER_LABELS, type ProviderChoice } from '../../runtime/providers-probe.js';
import { defaultThreads } from '../../runtime/session.js';
import type { DevicePreference } from '../../runtime/types.js';
import { counted } from '../../wording.js';

/**
 * The provider the default device resolves to here (probed once per process by chooseProvider), and why. A forced
 * device that cannot run is reported among the skipped ones, with what `auto` would use instead.
 */
export async function providerInUse(preference: DevicePreference, threads: number | null): Promise<ProviderInUse> {
  const n = threads ?? defaultThreads();
  let skipped: ProviderInUse['skipped'] = [];
  let choice: ProviderChoice;
  let reason: string | null;
  try {
    choice = await chooseProvider(preference);
    reason = choice.reason;
  } catch (error) {
    const message = (error as Error).message;
    skipped = [{ provider: preference, reason: message }];
    choice = await chooseProvider('auto');
    reason =
      `the default device (${preference}) cannot run here, so runs that ask for it fail` +
      `; automatic would use ${PROVIDER_LABELS[choice.provider]}: ${message}`;
  }
  const name = choice.provider;
  return {
    name,
    threads: n,
    label: name === 'cpu' ? `CPU · ${counted(n, 'thread')}` : PROVIDER_LABELS[name],
    skipped: [...skipped, ...choice.skipped],
    reason,
  };
}
