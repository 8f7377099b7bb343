/**
 * Labelling benchmark (`npm run bench -- label`): rows/s of `sprout label`'s pipeline (read → tokenise → score →
 * write → commit) on the t5-small-shaped random checkpoint with 2 labels, batch 32 and 64-token inputs, next to the
 * engine's bare scoring rate for the same batches; and resident memory for a 10k-row and a 1M-row input.
 *
 * Memory method: scoring all 1M rows would take hours, so each input is labelled for the same fixed number of
 * batches (a full job on that file — the row count pass over the whole file, then streaming — cancelled through its
 * AbortSignal); RSS is read after the last of those batches and sampled every 50 ms for the peak. Both runs share one
 * loaded model, so the difference is what the job's own memory grows with the file's length.
 */
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { ensureCheckpoint, T5_SMALL } from './engine.js';
import { median, randomIds, time } from './measure.js';
import { libraryPath, openLibrary } from '../library/db.js';
import { loadPromptModel } from '../runtime/model.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { startLabelJob, type LabelEngine } from '../label/job.js';

export interface LabelBenchOptions {
  workDir: string;
  tokenizerFrom: string;
  /** Batches labelled per input file for the memory comparison (default 16). */
  batches?: number;
}

const BATCH = 32;
const INPUT_TOKENS = 64;

export async function benchLabel(o: LabelBenchOptions) {
  const dir = await ensureCheckpoint(join(o.workDir, 't5-small-random'), T5_SMALL, o.tokenizerFrom);
  const work = join(o.workDir, 'label');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const model = await loadPromptModel(dir, { device: 'cpu' });
  const tokenizer = await loadTokenizer(dir);
  const words = singleTokenWords(tokenizer, 2000);
  const small = await writeInput(join(work, 'rows-10k.csv'), 10_000, words);
  const large = await writeInput(join(work, 'rows-1m.csv'), 1_000_000, words);

  const P = 20;
  const prompt = { length: P, data: model.embeddings(randomIds(P, 5000, 1)) };
  const engine: LabelEngine = {
    model,
    tokenizer,
    modelRef: dir,
    prompts: [
      {
        ref: 'bench',
        name: 'bench',
        prompt,
        task: { kind: 'classification', labels: ['negative', 'positive'], verbalisers: ['negative', 'positive'], template: null },
      },
    ],
  };
  const candidates = engine.prompts[0].task.verbalisers.map((v) => tokenizer.encode(v));
  const inputs = Array.from({ length: BATCH }, (_, b) => randomIds(INPUT_TOKENS - 1, 32000, 100 + b).concat(1));
  await model.score(prompt, inputs, candidates);
  const engineTimes: number[] = [];
  for (let i = 0; i < 3; i++) engineTimes.push(await time(() => model.score(prompt, inputs, candidates)));
  const engineMs = median(engineTimes);

  const db = openLibrary(libraryPath(join(work, 'home')));
  const rowsPerRun = (o.batches ?? 16) * BATCH;
  const runOn = async (input: string, name: string) => {
    const controller = new AbortController();
    let peak = process.memoryUsage().rss;
    let last = peak;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const summary = await startLabelJob(
      db,
      engine,
      { input, output: join(work, `${name}.csv`), textColumns: ['text'], batchSize: BATCH, commitRows: BATCH * 4 },
      {
        signal: controller.signal,
        onProgress: (p) => {
          last = process.memoryUsage().rss;
          peak = Math.max(peak, last);
          if (p.rowsDone >= rowsPerRun) controller.abort();
        },
      },
    );
    clearInterval(sampler);
    return {
      rows_labelled: summary.rows,
      total_rows: summary.total_rows,
      rows_per_s: summary.rows_per_s,
      peak_rss_mb: Math.round(peak / 2 ** 20),
      rss_after_batches_mb: Math.round(last / 2 ** 20),
    };
  };
  const at10k = await runOn(small, 'out-10k');
  const at1m = await runOn(large, 'out-1m');
  db.close();
  await model.dispose();
  rmSync(large);
  return {
    benchmark: 'label',
    model: 't5-small-shaped random checkpoint',
    labels: 2,
    batch: BATCH,
    input_tokens: INPUT_TOKENS,
    prompt_length: P,
    rows_per_s: at10k.rows_per_s,
    engine_score_rows_per_s: Number((BATCH / (engineMs / 1000)).toFixed(1)),
    rss_10k: at10k,
    rss_1m: at1m,
    rss_growth_mb: at1m.rss_after_batches_mb - at10k.rss_after_batches_mb,
    method: `each input labelled for ${rowsPerRun} rows (row count pass over the whole file, then streaming) and cancelled; ${RSS_METHOD}`,
  };
}

const RSS_METHOD =
  'RSS read after the last of those batches (rss_after_batches_mb, compared) and sampled every 50 ms for the peak ' +
  '(which also holds the garbage of the count pass before V8 collects it); one model for both';

/** Words the tokenizer reads as one piece after a space, so that 63 of them and eos make a 64-token input. */
function singleTokenWords(tokenizer: { encode(text: string): number[] }, count: number): string[] {
  const words: string[] = [];
  for (let i = 0; words.length < count && i < 200_000; i++) {
    const w = wordNumber(i);
    if (tokenizer.encode(w).length === 2) words.push(w);
  }
  return words;
}

function wordNumber(i: number): string {
  const letters = 'etaoinshrdlucmfwypvbgkjqxz';
  let w = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) w = letters[(n - 1) % 26] + w;
  return w;
}

async function writeInput(file: string, rows: number, words: string[]): Promise<string> {
  const out = createWriteStream(file);
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
  let chunk = 'text\n';
  for (let r = 0; r < rows; r++) {
    const line = Array.from({ length: INPUT_TOKENS - 1 }, () => words[next() % words.length]).join(' ');
    chunk += `${line}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return file;
}
