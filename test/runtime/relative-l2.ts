/** ‖scale · a − b‖ / ‖b‖: how far a gradient or activation lies from its reference, as one number. */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>, scale = 1): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    diff += (a[i] * scale - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(diff / norm);
}
