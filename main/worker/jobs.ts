/** What the engine worker can run. Add one line per job declared in protocol.ts's JobTable. */
import { sha256File } from './jobs/sha256.js';
import type { JobInput, JobName, JobOutput, JobProgress } from './protocol.js';

export type JobImplementation<J extends JobName> = (
  input: JobInput<J>,
  progress: (p: JobProgress<J>) => void,
  signal: AbortSignal,
) => Promise<JobOutput<J>>;

export const jobs: { [J in JobName]: JobImplementation<J> } = {
  'file.sha256': sha256File,
};
