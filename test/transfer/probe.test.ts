/**
 * A transfer probe only learns a task embedding: its test rows (CoLA's out-of-domain dev TSV as published, a tenth
 * held out at import) are not scored, which for a large test split would cost more than the probe itself.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { importDataset } from '../../main/library/import-dataset.js';
import { requirePrompt } from '../../main/library/prompts.js';
import type { TrainingEvent } from '../../main/train/events.js';
import { probeTaskEmbedding } from '../../main/transfer/probe.js';
import { shared, tinyModel } from '../train/fixtures.js';

it('a probe on a dataset with a test split leaves the test rows unscored', async () => {
  const home = mkdtempSync(join(tmpdir(), 'sprout-probe-'));
  const db = openLibrary(libraryPath(home));
  const report = await importDataset(db, join(shared, 'data/cola/out_of_domain_dev.tsv'), {
    header: false,
    quoting: 'none',
    textColumns: ['3'],
    labelColumn: '1',
    testSplit: 0.1,
  });
  expect(report.splits.test).toBeGreaterThan(0);
  const kinds = new Set<TrainingEvent['kind']>();
  const probe = await probeTaskEmbedding(
    {
      model: tinyModel,
      device: 'cpu',
      train: { dataset: report.id },
      task: { template: '{3}', labelColumn: '1', verbalizer: { 0: 'no', 1: 'yes' } },
      steps: 2,
      promptLength: 2,
    },
    { dataDir: home, onProgress: (e) => kinds.add(e.kind) },
  );
  expect(kinds.has('started')).toBe(true);
  expect(kinds.has('testing')).toBe(false);
  expect(requirePrompt(db, probe.promptId).metrics.test).toBeNull();
  db.close();
});
