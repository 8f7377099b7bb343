import { statfsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { arch, availableParallelism, platform } from 'node:os';
import type { DoctorReport } from '../../../preload/contract.js';
import { autoWidth } from '../../runtime/width-policy.js';
import { listProviders } from '../../runtime/providers.js';
import type { ProviderName } from '../../runtime/types.js';
import { sproutVersion } from '../version.js';
import { providerInUse } from './device.js';
import { readSettings } from './settings.js';

/**
 * Electron's version: the running one inside the app; from the CLI, the installed package's, but only when its
 * binary is there too (the package's index throws without it). Resolved from the running script, which works for
 * both bundles (ESM CLI and CommonJS shell) and a global install.
 */
function electronVersion(): string | null {
  if (process.versions.electron) return process.versions.electron;
  try {
    const require = createRequire(process.argv[1] ? resolve(process.argv[1]) : join(process.cwd(), 'index.js'));
    require('electron');
    return (require('electron/package.json') as { version: string }).version;
  } catch {
    return null;
  }
}

/** Versions, execution providers, data directory and free disk: what a bug report or a setup check needs. */
export async function doctorReport(dataDir: string): Promise<DoctorReport> {
  const listing = listProviders();
  const settings = readSettings(dataDir);
  const fs = statfsSync(dataDir);
  const chosenProvider = await providerInUse(settings.defaultDevice, settings.threads);
  return {
    versions: { sprout: sproutVersion, node: process.versions.node, onnxruntime: listing.onnxruntimeVersion, electron: electronVersion() },
    providers: listing.providers,
    defaultProvider: listing.defaultProvider,
    chosenProvider,
    autoWeights: autoWidth(chosenProvider.name as ProviderName),
    dataDir,
    freeDiskBytes: fs.bavail * fs.bsize,
    platform: platform(),
    arch: arch(),
    cpus: availableParallelism(),
  };
}
