import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { data, Harness } from './harness.js';

let h: Harness;
beforeAll(() => {
  h = new Harness();
});
afterAll(() => h.close());

const message = async (p: Promise<unknown>) =>
  (await p.then(
    () => 'succeeded',
    (e: Error) => e.message,
  )) as string;

describe('what the app is told (the contract), on CoLA as it is', () => {
  it('the preview proposes "no header" and says why; the import keeps every row', async () => {
    const preview = await h.call('data.preview', { file: data('cola/in_domain_dev.tsv') });
    expect(preview.header).toBe(false);
    expect(preview.headerReason).toMatch(/^row 1 looks like data: /);
    expect(preview.suggestion).toEqual({ textColumns: ['3'], labelColumn: '1', template: '{3}' });
    const report = await h.call('data.import', {
      file: data('cola/in_domain_dev.tsv'),
      header: preview.header,
      textColumns: ['3'],
      labelColumn: '1',
    });
    expect(report.rows).toBe(527);
    expect(report.splitBy).toBe('unique text');
  });

  it("errors name the app's controls, not CLI flags", async () => {
    const missing = await message(
      h.call('data.import', { file: data('cola/in_domain_dev.tsv'), textColumns: ['sentence'], labelColumn: '1' }),
    );
    expect(missing).toMatch(/The text column "sentence" is not in this TSV file\. Its columns are: "0", "1", "2", "3"\.$/);
    const headerOnly = await message(h.call('data.import', { file: data('cola/in_domain_dev.tsv'), header: true, textColumns: ['nope'] }));
    expect(`${missing} ${headerOnly}`).not.toMatch(/--[a-z]/);
    const relative = await message(h.call('data.preview', { file: 'cola.tsv' }));
    expect(relative).toMatch(/is not absolute\. Type the full path, e\.g\. \/home\/me\/data\/train\.csv/);
    expect(relative).not.toMatch(/picker/);
    // A folder's example is a folder.
    const folder = await message(h.call('model.import', { path: 'models/flan' }));
    expect(folder).toMatch(/is not absolute\. Type the full path, e\.g\. \/home\/me\/models\/flan-t5-small/);
  });
});
