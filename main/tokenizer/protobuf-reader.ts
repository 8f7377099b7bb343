/**
 * Minimal protobuf wire-format reader over a byte range. Every length is checked against the bytes that remain,
 * so a malformed message fails with a ProtobufError instead of allocating or reading past the end.
 */
export class ProtobufError extends Error {}

export const WireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export class ProtobufReader {
  private pos: number;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a field key; returns [fieldNumber, wireType]. */
  key(): [number, number] {
    const k = this.varint();
    const field = Math.floor(k / 8);
    const wire = k % 8;
    if (field === 0) throw new ProtobufError(`field number 0 at byte ${this.pos}`);
    return [field, wire];
  }

  /** Unsigned varint as a JS number (exact up to 2^53; larger values only need to compare as "large"). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError('message ends inside a varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new ProtobufError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** int32 fields are sign-extended to 64 bits on the wire; undo that. */
  int32(): number {
    const v = this.varint();
    if (v < 2 ** 31) return v;
    if (v >= 2 ** 64 - 2 ** 31) return v - 2 ** 64;
    throw new ProtobufError(`value ${v} does not fit an int32`);
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A length-delimited field: returns [start, end) of its payload in the buffer. */
  bytesRange(): [number, number] {
    const len = this.varint();
    this.need(len);
    const start = this.pos;
    this.pos += len;
    return [start, this.pos];
  }

  bytes(): Uint8Array {
    const [s, e] = this.bytesRange();
    return this.buf.subarray(s, e);
  }

  string(): string {
    try {
      return utf8Strict.decode(this.bytes());
    } catch (e) {
      if (e instanceof TypeError) throw new ProtobufError(`a string field is not valid UTF-8 near byte ${this.pos}`);
      throw e;
    }
  }

  skip(wire: number): void {
    switch (wire) {
      case WireType.varint:
        this.varint();
        return;
      case WireType.fixed64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.bytes:
        this.bytesRange();
        return;
      case WireType.fixed32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wire} at byte ${this.pos}`);
    }
  }

  expect(wire: number, actual: number, field: string): void {
    if (wire !== actual) throw new ProtobufError(`${field} has wire type ${actual}, expected ${wire}`);
  }

  private need(n: number): void {
    if (n > this.end - this.pos) throw new ProtobufError(`a field claims ${n} bytes but only ${this.end - this.pos} remain`);
  }
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
