/** How the Data and Label steps ask for a CSV/TSV's first row: detected, or said by the person. */
export type HeaderChoice = 'auto' | 'yes' | 'no';

/** The request field for a choice: none when detecting. */
export function headerRequest(choice: HeaderChoice): { header?: boolean } {
  return choice === 'auto' ? {} : { header: choice === 'yes' };
}
