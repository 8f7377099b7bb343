import type { z } from 'zod';
import {
  operations,
  type ContractErrorShape,
  type Envelope,
  type OperationName,
  type ResponseOf,
  type ValidRequestOf,
} from '../../preload/contract.js';
import { ContractError } from '../../preload/contract-error.js';
import { asDiskFullError } from '../disk-full.js';
import { asNoAccess } from '../output-path.js';
import { asLibraryBusyError } from '../library/db.js';
import { SproutError } from '../errors.js';
import type { HandlerContext } from './context.js';

export type Handler<K extends OperationName> = (
  request: ValidRequestOf<K>,
  context: HandlerContext,
) => Promise<ResponseOf<K>> | ResponseOf<K>;
/** One handler per operation of the contract; the compiler reports a missing one. */
export type Handlers = { [K in OperationName]: Handler<K> };

function isOperation(name: string): name is OperationName {
  return Object.hasOwn(operations, name);
}

function fieldOf(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]);
  return path.length > 0 ? path.join('.') : '(request)';
}

export function invalidRequest(name: string, issues: z.core.$ZodIssue[]): ContractErrorShape {
  // A misspelt field is both unknown and (when required) missing; naming the unknown spelling is what helps.
  const ordered = [...issues.filter((i) => i.code === 'unrecognized_keys'), ...issues.filter((i) => i.code !== 'unrecognized_keys')];
  const fields = ordered.map((issue) => ({ field: fieldOf(issue), message: issue.message }));
  const first = fields[0];
  return {
    code: 'invalid-request',
    message: `Invalid request for "${name}": ${first.field === '(request)' ? 'the request' : `field "${first.field}"`}: ${first.message}.`,
    details: { field: first.field, issues: fields },
  };
}

export function toErrorShape(thrown: unknown): ContractErrorShape {
  const error = asDiskFullError(thrown, "Sprout's data folder") ?? asNoAccess(thrown) ?? asLibraryBusyError(thrown) ?? thrown;
  if (error instanceof SproutError) {
    const { uiHint, ...details } = error.details;
    return { code: error.code, message: error.forApp(), details: uiHint === undefined ? details : { ...details, hint: uiHint } };
  }
  if (error instanceof ContractError)
    return { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
  // An unexpected fault: the message helps a bug report, the stack stays in the log of whoever hosts the engine.
  return { code: 'internal', message: `Internal error: ${error instanceof Error ? error.message : String(error)}` };
}

export type Dispatch = (name: string, request: unknown) => Promise<Envelope<unknown>>;

/**
 * The single code path every transport goes through: look up the operation, validate the request against its
 * schema, run the handler, and turn every outcome (including throws) into an envelope.
 */
export function createDispatch(handlers: Handlers, context: HandlerContext, log: (error: unknown) => void = () => {}): Dispatch {
  return async (name, request) => {
    if (!isOperation(name)) {
      return { ok: false, error: { code: 'unknown-operation', message: `Unknown operation "${name}".`, details: { operation: name } } };
    }
    const parsed = operations[name].request.safeParse(request);
    if (!parsed.success) return { ok: false, error: invalidRequest(name, parsed.error.issues) };
    try {
      const handler = handlers[name] as Handler<typeof name>;
      return { ok: true, value: await handler(parsed.data as ValidRequestOf<typeof name>, context) };
    } catch (error) {
      const shape = toErrorShape(error);
      if (shape.code === 'internal') log(error);
      return { ok: false, error: shape };
    }
  };
}
