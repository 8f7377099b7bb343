/**
 * A thrown error that already has the contract's error shape. It lives beside the contract, below both the
 * dispatcher and the worker client, so that neither has to import the other to speak it.
 */
export class ContractError extends Error {
  override name = 'ContractError';
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
