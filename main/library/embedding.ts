/**
 * Embeddings are stored as float32 little-endian, row-major [rows, d_model]. These two functions are the only
 * place that turns them into BLOBs and back; the copy on read gives an aligned, independent Float32Array.
 */
export function toBlob(data: Float32Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function fromBlob(blob: Uint8Array): Float32Array {
  const copy = new Uint8Array(new ArrayBuffer(blob.byteLength));
  copy.set(blob);
  return new Float32Array(copy.buffer);
}
