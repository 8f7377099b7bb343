import { join } from 'node:path';
import { shared, tinyModel } from '../train/fixtures.js';

export const STEPS = 30;

/**
 * A tiny run (40 CB rows, tiny T5, ~4 s of CPU with the process start) that checkpoints every 3 steps, evaluates
 * every 15 and uses dropout. Each evaluation builds its sessions again (bf16 weights keep one session group at a
 * time), so evaluations, not steps, are what a busy machine makes slow.
 */
export const trainArgs = [
  'train',
  '--model',
  tinyModel,
  '--device',
  'cpu',
  '--threads',
  '1',
  '--data',
  join(shared, 'data/cb/train.jsonl'),
  '--limit',
  '40',
  '--validation',
  join(shared, 'data/cb/val.jsonl'),
  '--validation-limit',
  '8',
  '--text-column',
  'premise',
  '--text-column',
  'hypothesis',
  '--label-column',
  'label',
  '--max-input-length',
  '64',
  '--prompt-length',
  '4',
  '--batch-size',
  '4',
  '--steps',
  String(STEPS),
  '--eval-every',
  '15',
  '--checkpoint-every',
  '3',
  '--seed',
  '11',
];
