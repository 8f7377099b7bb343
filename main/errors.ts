/**
 * An error a user can act on: what went wrong, where (file, line, column when known) and what to do.
 * `code` is stable so that the UI and scripts can branch on it; the message is for people.
 */
/** A command-line flag (--quoting) or command (`sprout …`) in a hint: words only the CLI understands. */
const CLI_WORDS = /(^|[\s(`'"])--[a-z]|`sprout /;

export class SproutError extends Error {
  override name = 'SproutError';
  constructor(
    readonly code: string,
    message: string,
    readonly details: { file?: string; line?: number; column?: number; hint?: string; uiHint?: string } = {},
  ) {
    super(SproutError.format(message, details));
    this.summary = message;
  }

  /** The message without its place and hint. */
  readonly summary: string;

  /**
   * The message as the app shows it: the hint in the app's words (`uiHint`) where the CLI's would name flags. A hint
   * that names a flag or a command and has no app wording is left out: the app has neither.
   */
  forApp(): string {
    const hint = this.details.uiHint ?? (CLI_WORDS.test(this.details.hint ?? '') ? undefined : this.details.hint);
    return SproutError.format(this.summary, { ...this.details, hint });
  }

  private static format(message: string, d: SproutError['details']): string {
    const where = d.file ? `${d.file}${d.line !== undefined ? `:${d.line}` : ''}${d.column !== undefined ? `:${d.column}` : ''}: ` : '';
    return `${where}${message}${d.hint ? ` ${d.hint}` : ''}`;
  }
}
