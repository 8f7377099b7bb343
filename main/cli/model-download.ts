import { summarize } from '../checkpoint/summary.js';
import { downloadModel } from '../hub/download.js';
import { inspectModel } from '../hub/inspect.js';
import type { DownloadProgress } from '../hub/progress.js';
import { hubModelId, saveModel } from '../library/models.js';
import { printJson, UsageError, type Command } from './command.js';
import { describeSummary, modelJson, withLibrary } from './model-shared.js';
import { interruptSignal, stoppedBy } from './interrupt.js';
import { statusLine } from './status-line.js';

const mb = (n: number): string => (n / 1e6).toFixed(1);

/** Each file's progress in place on a terminal, a line a second in a log; a file's last line stays. */
function progressPrinter(): (p: DownloadProgress) => void {
  const show = statusLine();
  return (p) => {
    const eta = p.etaSeconds === null ? '' : `, ${Math.ceil(p.etaSeconds)} s left`;
    show(
      `${p.file}: ${mb(p.fileBytes)}/${mb(p.fileTotal)} MB (all files ${mb(p.bytes)}/${mb(p.total)} MB, ${mb(p.rate)} MB/s${eta})`,
      p.fileBytes === p.fileTotal,
    );
  };
}

export const modelDownloadCommand: Command = {
  path: ['model', 'download'],
  summary: 'Download a T5 model from the Hugging Face Hub (resumable) and add it to the library',
  usage: `Usage: sprout model download REPO [--revision REV]

Downloads config, weights and tokenizer of REPO (e.g. google/flan-t5-small) at REV (branch, tag or commit;
default main) into the Hugging Face cache (HF_HUB_CACHE / HF_HOME; shared with Python), verifies and registers it.
An interrupted download resumes where it stopped. Honours HF_TOKEN, HF_ENDPOINT, HF_HUB_OFFLINE, and
HF_HUB_DOWNLOAD_TIMEOUT / HF_HUB_ETAG_TIMEOUT (seconds the Hub may stay silent before a file is tried again; 10).
Prints one JSON line: id, repo, revision, sha, path, fetched_bytes, summary.
The id is what \`--model\` takes in the commands that use a model (train, label, transfer rank).`,
  options: { revision: { type: 'string', default: 'main' } },
  positionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('Give exactly one model id, e.g. `sprout model download google/flan-t5-small`.');
    const repo = positionals[0];
    const revision = String(values.revision);
    const interrupt = interruptSignal();
    try {
      const result = await downloadModel(repo, { revision, signal: interrupt.signal, onProgress: progressPrinter() });
      const { checkpoint } = await inspectModel(result.dir);
      const record = await withLibrary((db) =>
        saveModel(db, {
          id: hubModelId(repo, revision),
          repo,
          revision,
          sha: result.commit,
          path: result.dir,
          summary: summarize(checkpoint),
        }),
      );
      process.stderr.write(`${record.id}: ${describeSummary(record.summary)}\n`);
      printJson({ ...modelJson(record), fetched_bytes: result.fetchedBytes });
    } catch (error) {
      return stoppedBy(interrupt.signal, error, 'The download was stopped; run the same command again to resume it.');
    } finally {
      interrupt.dispose();
    }
  },
};
