import type { CsvSeparator, EncodingChoice, HeaderSetting, Quoting } from '../../../main/choices.js';
import type { DataPreview, DataReadOptions } from '../../../preload/contract.js';

/** How a person chose to read a file in ReadChoices; '' and 'auto' leave the choice to detection. */
export interface ReadChoiceState {
  quoting: Quoting | '';
  separator: CsvSeparator | '';
  sheet: string;
  header: HeaderSetting;
  encoding: EncodingChoice;
}

/** The reading fields of a preview request: the choices made, none for those left to detection. */
export function readRequest(c: ReadChoiceState): DataReadOptions {
  return {
    ...(c.quoting ? { quoting: c.quoting } : {}),
    ...(c.separator ? { separator: c.separator } : {}),
    ...(c.sheet ? { sheet: c.sheet } : {}),
    ...encodingRequest(c.encoding),
    ...(c.header === 'auto' ? {} : { header: c.header === 'yes' }),
  };
}

/**
 * The reading fields of an import or a labelling job: the quoting and encoding as chosen, the rest as the preview
 * read the file (header, separator, sheet), so that the job reads the rows the person saw.
 */
export function previewedReading(c: ReadChoiceState, preview: DataPreview | undefined): DataReadOptions {
  return {
    ...(c.quoting ? { quoting: c.quoting } : {}),
    ...encodingRequest(c.encoding),
    ...(preview ? { header: preview.header } : {}),
    ...(preview?.separator ? { separator: preview.separator } : {}),
    ...(preview?.sheet ? { sheet: preview.sheet } : {}),
  };
}

/** The request field for the file's encoding: none for the default (UTF-8, or as a byte order mark says). */
function encodingRequest(choice: EncodingChoice): { encoding?: EncodingChoice } {
  return choice === 'auto' ? {} : { encoding: choice };
}
