/**
 * A field value as Sprout stores it: strings exactly as given; numbers, booleans and big integers as their decimal
 * text; nested values as JSON; null stays null (a missing value).
 */
export function fieldText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function objectFields(object: Record<string, unknown>): Record<string, string | null> {
  // No prototype: a key named __proto__ or constructor is a field like any other.
  const fields: Record<string, string | null> = Object.create(null);
  for (const key of Object.keys(object)) fields[key] = fieldText(object[key]);
  return fields;
}
