/** Where a [rows × d] matrix first holds a value that is not finite, as a message says it ("NaN at row 2, column 5"), or null. */
export function firstNonFinite(data: Float32Array, d: number): string | null {
  const bad = data.findIndex((v) => !Number.isFinite(v));
  return bad < 0 ? null : `${data[bad]} at row ${Math.floor(bad / d)}, column ${bad % d}`;
}
