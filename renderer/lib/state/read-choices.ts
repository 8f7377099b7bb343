import type { HeaderSetting } from '../../../main/choices.js';

/** The request field for how the Data and Label steps ask for a CSV/TSV's first row: none when detecting. */
export function headerRequest(choice: HeaderSetting): { header?: boolean } {
  return choice === 'auto' ? {} : { header: choice === 'yes' };
}
