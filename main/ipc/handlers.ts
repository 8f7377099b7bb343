/** The engine's answer to every operation of preload/contract.ts. Add one line per new operation. */
import { sproutVersion } from './version.js';
import type { Handlers } from './dispatch.js';
import { doctorReport } from './handlers/doctor.js';

export const handlers: Handlers = {
  doctor: (_request, { dataDir }) => doctorReport(dataDir),
  'app.info': (_request, { dataDir, shell }) => ({ name: 'Sprout', version: sproutVersion, shell, dataDir }),
};
