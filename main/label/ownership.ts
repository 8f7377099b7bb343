/**
 * A labelling job owns its output file. Default output names come from the prompt and never collide with another
 * job's output or an existing file; writing over a file another job owns needs the person's consent naming that
 * job (`replaceJob`), and the replaced job remembers who took its file; a finished job keeps the length, mtime and
 * sha256 of what it wrote (its seal), so it can tell when the file no longer holds its labels.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { SproutError } from '../errors.js';
import { sha256OfFile } from '../file-hash.js';
import type { LibraryDb } from '../library/db.js';
import type { OutputFormat } from './encode.js';
import { appendedPath } from './part-output.js';
import { fileNamePart, realTarget } from '../output-path.js';
import { sameFile } from '../same-file.js';
import { refuseIfWritten } from '../writer-lock.js';
import { jobWriter, listJobs, resealOutput, type LabelJob, type OutputReplaced, type OutputSeal } from './jobs.js';

/** Length, mtime and sha256 of a file as it is now. */
export function sealOf(file: string): OutputSeal {
  const sha256 = sha256OfFile(file);
  const stat = statSync(file);
  return { bytes: stat.size, mtimeMs: stat.mtimeMs, sha256 };
}

/**
 * Whether the job's output file still holds what the job wrote:
 * `intact` (a finished job's file matches its seal), `changed`, `missing`, `replaced` (another job's labels or export
 * fill it, with the person's consent), or `unsealed` (the job has not finished, or finished before seals were kept).
 */
export type OutputState = 'intact' | 'changed' | 'missing' | 'replaced' | 'unsealed';

export function outputState(db: LibraryDb, job: LabelJob): OutputState {
  if (job.outputReplaced) return 'replaced';
  // An unfinished Parquet or workbook job is still writing its part file; the file itself comes at the end.
  const stat = statSync(job.status === 'done' ? job.spec.output : appendedPath(job.spec.output, job.spec.format), {
    throwIfNoEntry: false,
  });
  const seal = job.outputSeal;
  if (!stat) return 'missing';
  if (!seal) return 'unsealed';
  if (stat.size !== seal.bytes) return 'changed';
  if (stat.mtimeMs === seal.mtimeMs) return 'intact';
  // Same length, new mtime: only the bytes can tell (a file opened and saved unchanged is still the job's).
  const now = sealOf(job.spec.output);
  if (now.sha256 !== seal.sha256) return 'changed';
  resealOutput(db, job.id, now);
  return 'intact';
}

/** What the job page and the CLI say about a job whose output no longer holds its labels; null while it does. */
export function outputNote(job: LabelJob, state: OutputState): string | null {
  const file = job.spec.output;
  if (state === 'replaced') return `${file} no longer holds this job's labels: ${replacedBy(job.outputReplaced!)}.`;
  if (state === 'changed') return `${file} was changed outside Sprout since this job wrote it.`;
  if (state === 'missing') return `${file} is gone.`;
  return null;
}

function replacedBy(r: OutputReplaced): string {
  return (
    `${r.how === 'labelled' ? `labelling job ${r.jobId} wrote its own labels there` : `an export of labelling job ${r.jobId} was written there`}` +
    ` (${r.at.slice(0, 16).replace('T', ' ')} UTC, with your consent)`
  );
}

/**
 * Before a job or an export writes `file`: the jobs that own it, which the write will replace. Owned files need
 * `replaceJob` naming the newest owner; the returned jobs are marked replaced once the write has begun.
 */
export function claimOutput(db: LibraryDb, file: string, replaceJob: string | undefined, what: 'labelled copy' | 'export'): LabelJob[] {
  const owners = existsSync(file) ? jobsOwning(db, file) : [];
  const [owner] = owners;
  if (!owner) {
    if (replaceJob !== undefined) {
      throw new SproutError('label-not-owner', `${file} is not the output of labelling job ${replaceJob} (no job owns it).`, {
        file,
        hint: 'Leave out --replace-job.',
        uiHint: 'Try again.',
      });
    }
    return [];
  }
  if (replaceJob === owner.id) {
    // Consent covers the finished labels, not a job still writing into the file.
    for (const o of owners) refuseIfWritten(jobWriter(db, o.id));
    return owners;
  }
  const prompts = owner.spec.prompts.map((p) => `"${p.name}"`).join(' + ');
  throw new SproutError(
    'label-output-owned',
    `${file} is the output of labelling job ${owner.id} (prompt ${prompts}, ${owner.rowsDone}` +
      ` rows, started ${owner.created.slice(0, 16).replace('T', ' ')} UTC)` +
      `; writing the ${what} there would replace that job's labels.`,
    {
      file,
      hint: `Choose another file, or pass --replace-job ${owner.id} to replace it.`,
      uiHint: `Choose another file, or confirm that job ${owner.id}'s file may be replaced.`,
    },
  );
}

/**
 * Where a new job writes by default: beside the input, named after the input and the prompt
 * (`reviews.sst2-sentiment.labelled.csv`), with -2, -3, … where that is an existing file or another job's output.
 */
export function defaultOutputPath(db: LibraryDb, input: string, promptName: string, format: OutputFormat): string {
  const stem = basename(input, extname(input));
  const slug = fileNamePart(promptName.toLowerCase(), 48, 'prompt');
  for (let n = 1; ; n++) {
    const file = join(dirname(input), `${stem}.${slug}${n === 1 ? '' : `-${n}`}.labelled.${format}`);
    if (!existsSync(file) && !taken(db, file)) return file;
  }
}

/** Jobs whose output is `file` (through links too), newest first; with `owning`, only those that still own it. */
function jobsWriting(db: LibraryDb, file: string, owning: boolean): LabelJob[] {
  const target = realTarget(file);
  return listJobs(db).filter((j) => !(owning && j.outputReplaced) && realTarget(j.spec.output) === target);
}

/** Jobs that still own `file` as their output, newest first. */
export function jobsOwning(db: LibraryDb, file: string): LabelJob[] {
  return jobsWriting(db, file, true);
}

/** Any job, even one whose file was replaced or is gone, keeps its name: a new default never reuses it. */
function taken(db: LibraryDb, file: string): boolean {
  return jobsWriting(db, file, false).length > 0;
}

/** The output would overwrite the file being labelled, through whatever links (symbolic or hard) lead to either. */
export function refuseOutputOverInput(input: string, output: string): void {
  if (realTarget(input) === realTarget(output) || sameFile(input, output))
    throw new SproutError('label-output-is-input', 'The output file would overwrite the input.', {
      file: output,
      hint: 'Choose another --output.',
      uiHint: 'Choose another output file.',
    });
}
