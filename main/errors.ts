/**
 * An error a user can act on: what went wrong, where (file, line, column when known) and what to do.
 * `code` is stable so that the UI and scripts can branch on it; the message is for people.
 */
export class SproutError extends Error {
  override name = 'SproutError';
  constructor(
    readonly code: string,
    message: string,
    readonly details: { file?: string; line?: number; column?: number; hint?: string } = {},
  ) {
    super(SproutError.format(message, details));
  }

  private static format(message: string, d: SproutError['details']): string {
    const where = d.file ? `${d.file}${d.line !== undefined ? `:${d.line}` : ''}${d.column !== undefined ? `:${d.column}` : ''}: ` : '';
    return `${where}${message}${d.hint ? ` ${d.hint}` : ''}`;
  }
}
