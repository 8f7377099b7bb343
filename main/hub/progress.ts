/** Progress of a download, per file and overall; emitted at most every `interval` ms and when a file completes. */
export interface DownloadProgress {
  file: string;
  fileBytes: number;
  fileTotal: number;
  /** Bytes on disk for the whole download, counting what earlier attempts left. */
  bytes: number;
  total: number;
  /** Bytes per second fetched in this session. */
  rate: number;
  /** Seconds left at the current rate; null until something was fetched. */
  etaSeconds: number | null;
}

export class ProgressTracker {
  private fetched = 0;
  private lastEmit = 0;
  private readonly started = Date.now();
  private file = '';
  private fileBytes = 0;
  private fileTotal = 0;

  constructor(
    private bytes: number,
    private readonly total: number,
    private readonly emit: (p: DownloadProgress) => void = () => {},
    private readonly interval = 200,
  ) {}

  startFile(file: string, alreadyThere: number, size: number): void {
    this.file = file;
    this.fileBytes = alreadyThere;
    this.fileTotal = size;
  }

  add(n: number): void {
    this.fetched += n;
    this.bytes += n;
    this.fileBytes += n;
    if (Date.now() - this.lastEmit >= this.interval) this.report();
  }

  /** A file is complete (possibly after a checksum re-fetch, which can overshoot: settle on its size). */
  finishFile(): void {
    this.bytes += this.fileTotal - this.fileBytes;
    this.fileBytes = this.fileTotal;
    this.report();
  }

  get fetchedBytes(): number {
    return this.fetched;
  }

  private report(): void {
    this.lastEmit = Date.now();
    const seconds = Math.max((this.lastEmit - this.started) / 1000, 1e-3);
    const rate = this.fetched / seconds;
    this.emit({
      file: this.file,
      fileBytes: this.fileBytes,
      fileTotal: this.fileTotal,
      bytes: this.bytes,
      total: this.total,
      rate,
      etaSeconds: this.fetched > 0 ? Math.max(0, this.total - this.bytes) / rate : null,
    });
  }
}
