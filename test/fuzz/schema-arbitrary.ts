/**
 * Requests for the contract's operations, built from their zod schemas: mostly valid shapes with hostile values
 * (traversal paths, odd names, boundary numbers), so that fuzzing gets past validation into the handlers. Strings
 * are drawn from pools chosen by field name; every path a handler might write to lies inside `scratch`.
 */
import { basename, join } from 'node:path';
import fc from 'fast-check';
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  entries?: Record<string, string>;
  options?: z.ZodType[];
  values?: unknown[];
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Never an absolute path: a handler could write there. Paths come only from the pools, all inside the scratch folder. */
const ODD_TEXT = [
  '',
  ' ',
  'x',
  '..',
  '../../x',
  '__proto__',
  'constructor',
  '{premise}',
  '{nope}',
  '{',
  'label',
  'premise',
  'é😀',
  '\u0000',
  'x'.repeat(5000),
];

export interface Pools {
  strings: Record<string, string[]>;
  /** Ids of records that exist, for id-like number fields. */
  ids: number[];
}

const ID_FIELDS = new Set(['id', 'runId', 'promptId', 'datasetId']);
const PATH_FIELDS = new Set(['file', 'validationFile', 'input', 'path', 'output', 'dir']);

export function pools(scratch: string, readable: string[], existing: { ids: number[]; jobIds: string[] }): Pools {
  // Traversing paths are kept as typed (join would fold the ".."): they must be refused, never followed.
  const outside = `${scratch}/../${basename(scratch)}-outside`;
  const writable = [
    join(scratch, 'out.csv'),
    join(scratch, 'out.jsonl'),
    join(scratch, 'peft'),
    join(scratch, 'new', 'deeper'),
    `${outside}.csv`,
    `${outside}-peft`,
    join(scratch, 'out.parquet'),
    'relative-out.csv',
    '../relative-out',
  ];
  const read = [...readable, join(scratch, 'missing.csv'), scratch, '/dev/null', 'relative.csv', `${outside}-read.csv`];
  const strings = {
    file: [...read, ...writable],
    validationFile: read,
    input: read,
    path: read,
    output: writable,
    dir: [...writable, scratch],
    hubEndpoint: ['http://127.0.0.1:9', 'https://127.0.0.1:9/mirror', 'http://[::1]:9/', 'ftp://127.0.0.1/', 'not a url'],
    repo: ['t5-small', 'google/t5-v1_1-small', '../../x', 'a/b/c', '..', 'x/..', 'x'],
    revision: ['main', '../..', 'refs/pr/1', 'x'],
    jobId: [...existing.jobIds, 'nope', 'label-00000000', '../../etc', 'download-1', '1'],
    modelId: ['fault/model', 'local/x', '../x', 'google/t5-v1_1-small'],
    id: ['fault/model', 'local/x', '../x'],
    init: ['random', 'vocab', 'labels', 'text:hello there', 'prompt:1', 'prompt:999', 'prompt:x', 'nope'],
  };
  return { strings, ids: existing.ids };
}

const NUMBERS = [0, 1, 2, 3, 5, -1, 0.5, 0.9, 8, 200, 1000, 4096, 1e6, 2 ** 31, 2 ** 53 - 1, -(2 ** 31)];

function stringFor(field: string, pool: Pools): fc.Arbitrary<string> {
  const named = pool.strings[field];
  const odd = fc.constantFrom(...ODD_TEXT);
  if (PATH_FIELDS.has(field)) return fc.constantFrom(...named!);
  return named
    ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...named) }, { weight: 1, arbitrary: odd })
    : fc.oneof(odd, fc.string({ maxLength: 20 }));
}

/** Values that mostly satisfy `schema`, with the field name steering strings toward interesting pools. */
export function arbitraryFor(schema: z.ZodType, pool: Pools, field = ''): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  switch (def.type) {
    case 'object': {
      const shape = def.shape!;
      const parts = Object.fromEntries(Object.entries(shape).map(([key, s]) => [key, arbitraryFor(s, pool, key)]));
      const optional = Object.keys(shape).filter((k) => defOf(shape[k]).type === 'optional');
      return fc.record(parts, { requiredKeys: Object.keys(shape).filter((k) => !optional.includes(k)) });
    }
    case 'optional':
      return arbitraryFor(def.innerType!, pool, field);
    case 'nullable':
      return fc.oneof({ weight: 4, arbitrary: arbitraryFor(def.innerType!, pool, field) }, { weight: 1, arbitrary: fc.constant(null) });
    case 'string':
      return stringFor(field, pool);
    case 'number':
      if (ID_FIELDS.has(field) && pool.ids.length)
        return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool.ids) }, { weight: 1, arbitrary: fc.constantFrom(...NUMBERS) });
      return fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...NUMBERS) },
        { weight: 1, arbitrary: fc.integer({ min: -10, max: 5000 }) },
        { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
      );
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries!));
    case 'literal':
      return fc.constantFrom(...def.values!);
    case 'array':
      return fc.array(arbitraryFor(def.element!, pool, field), { maxLength: 4 });
    case 'record':
      return fc.dictionary(fc.constantFrom('yes', 'no', 'entailment', '__proto__', 'constructor', '', 'x'), stringFor('', pool), {
        maxKeys: 4,
      });
    case 'union':
      return fc.oneof(...def.options!.map((o) => arbitraryFor(o, pool, field)));
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Keys of an operation's request object, for requests with the right keys and wrong values. */
export function keysOf(schema: z.ZodType): string[] {
  const def = defOf(schema);
  return def.type === 'object' ? Object.keys(def.shape!) : [];
}
