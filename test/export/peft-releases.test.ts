/**
 * The adapter_config.json Sprout writes must load in every PEFT release since 0.6: PeftConfig.from_pretrained
 * passes every key to PromptTuningConfig(**kwargs), and releases before the forward-compatibility filter raise
 * `TypeError: __init__() got an unexpected keyword argument` for a key they do not know.
 *
 * Each list below is the union of the dataclass fields of PeftConfigMixin, PeftConfig, PromptLearningConfig and
 * PromptTuningConfig in that release (src/peft/config.py or src/peft/utils/config.py, and
 * src/peft/tuners/prompt_tuning/config.py or src/peft/tuners/prompt_tuning.py).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportPeft } from '../../main/export/peft.js';
import { saveModel } from '../../main/library/models.js';
import { tempDir } from '../checkpoint/helpers.js';
import { addPrompt, freshLibrary, TINY_SUMMARY } from '../library/helpers.js';

const PEFT_CONFIG_BASE = ['peft_type', 'auto_mapping', 'base_model_name_or_path', 'revision', 'task_type', 'inference_mode'];
const PROMPT_LEARNING = ['num_virtual_tokens', 'token_dim', 'num_transformer_submodules', 'num_attention_heads', 'num_layers'];
const PROMPT_TUNING_06 = ['prompt_tuning_init', 'prompt_tuning_init_text', 'tokenizer_name_or_path'];

const RELEASES: { release: string; source: string; fields: string[] }[] = [
  {
    release: '0.6.2',
    source:
      'PEFT v0.6.2 src/peft/utils/config.py (PeftConfigMixin: peft_type, auto_mapping; PeftConfig: base_model_name_or_path, revision, peft_type, task_type, inference_mode; PromptLearningConfig) and src/peft/tuners/prompt_tuning/config.py (no tokenizer_kwargs: the TypeError of issue #14; the 0.6.2 adapter_config.json in test/export/peft.test.ts has exactly these keys)',
    fields: [...PEFT_CONFIG_BASE, ...PROMPT_LEARNING, ...PROMPT_TUNING_06],
  },
  {
    release: '0.7.1',
    source: 'PEFT v0.7.1: as 0.6.2, plus PromptTuningConfig.tokenizer_kwargs (added in 0.7.0)',
    fields: [...PEFT_CONFIG_BASE, ...PROMPT_LEARNING, ...PROMPT_TUNING_06, 'tokenizer_kwargs'],
  },
  {
    release: '0.10.0',
    source: 'PEFT v0.10.0 src/peft/config.py and src/peft/tuners/prompt_tuning/config.py: the same fields as 0.7',
    fields: [...PEFT_CONFIG_BASE, ...PROMPT_LEARNING, ...PROMPT_TUNING_06, 'tokenizer_kwargs'],
  },
  {
    release: '0.13.0',
    source: 'PEFT v0.13.0 src/peft/config.py (task_type also declared on PeftConfigMixin) and src/peft/tuners/prompt_tuning/config.py',
    fields: [...PEFT_CONFIG_BASE, ...PROMPT_LEARNING, ...PROMPT_TUNING_06, 'tokenizer_kwargs'],
  },
  {
    release: 'main',
    source:
      'huggingface/peft src/peft/config.py at 0397041dcf4eb15839a2fb9e894271ee0d8fe60f and src/peft/tuners/prompt_tuning/config.py at 0d7218854d9e8a8ec2dea4eb33cd0be772645152, read for this test',
    fields: [...PEFT_CONFIG_BASE, ...PROMPT_LEARNING, ...PROMPT_TUNING_06, 'tokenizer_kwargs'],
  },
];

/** PEFT's PromptTuningConfig(**kwargs) before 0.14: a TypeError names the first key the dataclass lacks. */
function constructInRelease(fields: string[], config: Record<string, unknown>): string | null {
  const unknown = Object.keys(config).find((k) => !fields.includes(k));
  return unknown === undefined ? null : `__init__() got an unexpected keyword argument '${unknown}'`;
}

function exported(summary: boolean): Record<string, unknown> {
  const { db } = freshLibrary();
  if (summary) {
    saveModel(db, {
      id: 'google/tiny-t5@abc',
      repo: 'google/tiny-t5',
      revision: 'abc',
      sha: 'f'.repeat(40),
      path: '/models/tiny',
      summary: TINY_SUMMARY,
    });
  }
  const id = addPrompt(db, 0, {
    embedding: new Float32Array(12),
    model: summary
      ? { id: 'google/tiny-t5@abc', path: '/models/tiny', summary: null }
      : { id: null, path: '/models/unregistered', summary: null },
    name: 'p',
  });
  const dir = join(tempDir(), 'adapter');
  exportPeft(db, id, dir);
  return JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
}

describe('PEFT adapter_config.json across releases', () => {
  for (const withSummary of [true, false]) {
    const config = exported(withSummary);
    for (const { release, source, fields } of RELEASES) {
      it(`loads in PEFT ${release} (${withSummary ? 'registered model' : 'unregistered model, no summary'}) — fields from ${source.slice(0, 60)}…`, () => {
        expect(constructInRelease(fields, config)).toBeNull();
      });
    }
    it(`writes no null values and the keys PEFT needs (${withSummary ? 'registered' : 'unregistered'} model)`, () => {
      expect(Object.values(config)).not.toContain(null);
      expect(config).toMatchObject({
        peft_type: 'PROMPT_TUNING',
        task_type: 'SEQ_2_SEQ_LM',
        num_virtual_tokens: 3,
        token_dim: 4,
        num_transformer_submodules: 2,
        prompt_tuning_init: 'RANDOM',
      });
    });
  }

  it('the check itself refuses what PEFT 0.6.2 refused: the old config with "tokenizer_kwargs": null', () => {
    const old = { ...exported(true), tokenizer_kwargs: null };
    expect(constructInRelease(RELEASES[0].fields, old)).toBe("__init__() got an unexpected keyword argument 'tokenizer_kwargs'");
    expect(constructInRelease(RELEASES[1].fields, old)).toBeNull();
  });
});
