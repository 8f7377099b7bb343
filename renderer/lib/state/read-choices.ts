import type { EncodingChoice, HeaderSetting } from '../../../main/choices.js';

/** The request field for how the Data and Label steps ask for a CSV/TSV's first row: none when detecting. */
export function headerRequest(choice: HeaderSetting): { header?: boolean } {
  return choice === 'auto' ? {} : { header: choice === 'yes' };
}

/** The request field for the file's encoding: none for the default (UTF-8, or as a byte order mark says). */
export function encodingRequest(choice: EncodingChoice): { encoding?: EncodingChoice } {
  return choice === 'auto' ? {} : { encoding: choice };
}
