import { appendFile, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface DiskSpoolOptions {
  dir: string;
  /** Total bytes on disk; appends past it are refused (the caller counts and drops). */
  maxBytes: number;
  /** A segment is closed and a new one started past this size (default 16 MiB). */
  segmentBytes?: number;
}

const SEGMENT = /^seg-(\d{12})\.ndjson$/;

/**
 * A bounded, append-only spool of lines on disk: numbered segment files, written in order and
 * replayed oldest first. A replayed segment records how many of its lines were delivered
 * (`seg-N.offset`) after every batch, so a crash mid-replay repeats at most one batch
 * (at-least-once; consumers dedupe by event id). Writes are serialized by one promise chain.
 *
 * @example
 * const spool = new DiskSpool({ dir: ".spool/usage", maxBytes: 1 << 30 });
 * await spool.open();
 * await spool.append([JSON.stringify(event)]);
 * await spool.replay(async (lines) => publisher.publish(lines.map(parse)));
 */
export class DiskSpool {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private segments: number[] = [];
  private sizes = new Map<number, number>();
  private writeSeq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private replaying = false;

  constructor(options: DiskSpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes = options.segmentBytes ?? 16 * 1024 * 1024;
  }

  /** Finds what a previous run left (replayed first). */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = await readdir(this.dir);
    for (const name of names) {
      const m = SEGMENT.exec(name);
      if (!m) continue;
      const seq = Number(m[1]);
      this.segments.push(seq);
      this.sizes.set(seq, (await stat(join(this.dir, name))).size);
    }
    this.segments.sort((a, b) => a - b);
    this.writeSeq = (this.segments.at(-1) ?? 0) + 1;
  }

  /** Bytes on disk now. */
  get bytes(): number {
    let total = 0;
    for (const size of this.sizes.values()) total += size;
    return total;
  }

  get hasData(): boolean {
    return this.segments.length > 0;
  }

  /**
   * Appends lines (no newlines inside) in order; resolves with how many were written: fewer than
   * given when the spool is full (the rest are the caller's to count as dropped).
   */
  append(lines: readonly string[]): Promise<number> {
    const run = this.chain.then(() => this.write(lines));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Delivers every spooled line, oldest first, in batches through `deliver`; stops at the first
   * failure (the lines stay, to be tried again). Resolves with the lines delivered.
   */
  async replay(deliver: (lines: string[]) => Promise<void>, batchSize = 500): Promise<number> {
    if (this.replaying) return 0;
    this.replaying = true;
    let delivered = 0;
    try {
      for (;;) {
        // Close the segment being written so new lines go to a fresh one behind it.
        const oldest = await this.serialized(() => {
          if (this.segments[0] === this.writeSeq - 1 && this.segments.length === 1) this.writeSeq++;
          return this.segments[0];
        });
        if (oldest === undefined) return delivered;
        const path = this.segmentPath(oldest);
        const lines = (await readFile(path, "utf8")).split("\n").filter((l) => l.length > 0);
        let offset = await this.readOffset(oldest);
        while (offset < lines.length) {
          const batch = lines.slice(offset, offset + batchSize);
          await deliver(batch);
          offset += batch.length;
          delivered += batch.length;
          await writeFile(`${path}.offset`, String(offset));
        }
        await this.serialized(async () => {
          // Lines appended to this segment meanwhile (it was the write segment) come next round.
          if ((await stat(path)).size > (this.sizes.get(oldest) ?? 0)) return;
          await rm(path, { force: true });
          await rm(`${path}.offset`, { force: true });
          this.segments.shift();
          this.sizes.delete(oldest);
        });
      }
    } finally {
      this.replaying = false;
    }
  }

  /** Waits for the writes queued so far. */
  async flush(): Promise<void> {
    await this.chain;
  }

  private async write(lines: readonly string[]): Promise<number> {
    let room = this.maxBytes - this.bytes;
    const accepted: string[] = [];
    for (const line of lines) {
      const size = Buffer.byteLength(line) + 1;
      if (size > room) break;
      room -= size;
      accepted.push(line);
    }
    if (accepted.length === 0) return 0;
    let seq = this.segments.at(-1);
    if (seq === undefined || seq < this.writeSeq - 1 || (this.sizes.get(seq) ?? 0) >= this.segmentBytes) {
      seq = this.writeSeq++;
      this.segments.push(seq);
      this.sizes.set(seq, 0);
    }
    const text = `${accepted.join("\n")}\n`;
    await appendFile(this.segmentPath(seq), text);
    this.sizes.set(seq, (this.sizes.get(seq) ?? 0) + Buffer.byteLength(text));
    return accepted.length;
  }

  private serialized<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async readOffset(seq: number): Promise<number> {
    try {
      return Number(await readFile(`${this.segmentPath(seq)}.offset`, "utf8")) || 0;
    } catch {
      return 0;
    }
  }

  private segmentPath(seq: number): string {
    return join(this.dir, `seg-${String(seq).padStart(12, "0")}.ndjson`);
  }
}
