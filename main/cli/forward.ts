import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SproutError } from '../errors.js';
import { loadPromptModel } from '../runtime/model.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { printJson, UsageError, type Command } from './command.js';
import { deviceFlag, precisionFlag } from './flags.js';
import { MODEL_HELP, modelPathFlag } from './model-shared.js';

const ForwardRequest = z.object({
  texts: z.array(z.string()).min(1),
  targets: z.array(z.string()).optional(),
  prompt: z.array(z.array(z.number())).optional(),
  candidates: z.array(z.string()).min(1).optional(),
});

function readRequest(file: string): z.infer<typeof ForwardRequest> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SproutError('bad-request-file', `Cannot read the request as JSON: ${(error as Error).message}.`, { file });
  }
  const parsed = ForwardRequest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SproutError('bad-request-file', `"${issue.path.join('.')}": ${issue.message}.`, {
      file,
      hint: 'Expected { "texts": [...], "targets"?: [...], "prompt"?: [[...]], "candidates"?: [...] }.',
    });
  }
  if (parsed.data.targets && parsed.data.targets.length !== parsed.data.texts.length) {
    throw new SproutError(
      'bad-request-file',
      `"targets" has ${parsed.data.targets.length} entries but "texts" has ${parsed.data.texts.length}.`,
      { file },
    );
  }
  return parsed.data;
}

const pad = (rows: number[][], value: number) => {
  const n = Math.max(...rows.map((r) => r.length));
  return rows.map((r) => [...r, ...new Array(n - r.length).fill(value)]);
};

const rows = (data: Float32Array, width: number) =>
  Array.from({ length: data.length / width }, (_, i) => Array.from(data.subarray(i * width, (i + 1) * width)));

export const forwardCommand: Command = {
  path: ['forward'],
  summary: 'Run the engine once on texts (loss, prompt gradient, greedy ids, rank scores) and print JSON',
  usage: `Usage: sprout forward --model MODEL --request FILE.json [--hidden] [${deviceFlag.help}] [${precisionFlag.help}]

Runs the frozen T5 of MODEL on a request { "texts": [...], "targets"?: [...], "prompt"?: [[P rows of d_model]],
"candidates"?: [...] } and prints one JSON object: input_ids, labels, loss, per_example_loss, grad_prompt (P x d),
greedy_ids (8 new tokens at most), rank_scores (per text, per candidate), encoder_last_hidden_state (--hidden),
provider.
${MODEL_HELP}`,
  options: {
    model: { type: 'string' },
    request: { type: 'string' },
    hidden: { type: 'boolean', default: false },
  },
  choices: [deviceFlag, precisionFlag],
  async run({ values }) {
    if (typeof values.model !== 'string' || typeof values.request !== 'string')
      throw new UsageError('--model MODEL and --request FILE are required. Run `sprout forward --help`.');
    const device = deviceFlag.read(values) ?? 'auto';
    const precision = precisionFlag.read(values) ?? 'auto';
    const request = readRequest(values.request);
    const folder = await modelPathFlag(values.model);
    const model = await loadPromptModel(folder, { device, precision });
    const tokenizer = await loadTokenizer(folder);
    const d = model.config.dModel;
    const promptRows = request.prompt ?? [];
    promptRows.forEach((row, i) => {
      if (row.length !== d)
        throw new SproutError('bad-request-file', `prompt row ${i} has ${row.length} values; this model's d_model is ${d}.`, {
          file: values.request as string,
        });
    });
    const prompt = { length: promptRows.length, data: Float32Array.from(promptRows.flat()) };
    const inputs = request.texts.map((t) => tokenizer.encode(t));
    const result: Record<string, unknown> = { input_ids: pad(inputs, model.config.padTokenId) };
    if (request.targets) {
      const targets = request.targets.map((t) => tokenizer.encode(t));
      const step = await model.trainStep(prompt, { inputs, targets });
      Object.assign(result, {
        labels: pad(targets, -100),
        loss: step.loss,
        per_example_loss: Array.from(step.perExampleLoss),
        grad_prompt: rows(step.gradPrompt, d),
      });
    }
    result.greedy_ids = await model.generate(prompt, inputs, 8);
    if (request.candidates) {
      const scores = await model.score(
        prompt,
        inputs,
        request.candidates.map((c) => tokenizer.encode(c)),
      );
      result.rank_scores = rows(scores, request.candidates.length);
    }
    if (values.hidden) {
      const { hidden, dims } = await model.encode(prompt, inputs);
      result.encoder_last_hidden_state = Array.from({ length: dims[0] }, (_, b) =>
        rows(hidden.subarray(b * dims[1] * d, (b + 1) * dims[1] * d), d),
      );
    }
    result.provider = model.provider;
    await model.dispose();
    printJson(result);
  },
};
