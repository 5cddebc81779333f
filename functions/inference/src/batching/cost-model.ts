/**
 * Learns what a batch costs per row at each size bucket (1, 2–3, 4–7, 8–15 …) from executed batches
 * (and warm-up), so the batcher waits for company only when a bigger batch is measurably cheaper per
 * row, and never grows batches past the size that is cheapest per row. A weight-heavy MLP gets ~10×
 * cheaper rows at 32; a convolutional OCR model on CPU gets dearer rows, and is then served one by one.
 *
 * @example
 * const costs = new CostModel();
 * costs.record(1, 5); costs.record(32, 16);
 * costs.biggerIsCheaper(1); // true
 */
export class CostModel {
  /** EWMA of milliseconds per row, by bucket index floor(log2(rows)). */
  readonly #perRow = new Map<number, number>();
  readonly #alpha: number;
  /** A bigger bucket must be at least this much cheaper per row to be worth waiting for. */
  readonly #margin: number;

  constructor(options: { alpha?: number; margin?: number } = {}) {
    this.#alpha = options.alpha ?? 0.2;
    this.#margin = options.margin ?? 0.9;
  }

  static bucket(rows: number): number {
    return Math.floor(Math.log2(Math.max(1, rows)));
  }

  record(rows: number, computeMs: number): void {
    if (rows <= 0 || !Number.isFinite(computeMs)) return;
    const b = CostModel.bucket(rows);
    const sample = computeMs / rows;
    const prev = this.#perRow.get(b);
    this.#perRow.set(b, prev === undefined ? sample : prev + this.#alpha * (sample - prev));
  }

  perRowMs(rows: number): number | undefined {
    return this.#perRow.get(CostModel.bucket(rows));
  }

  /** Estimated milliseconds to run `rows` rows; undefined before anything was measured. */
  estimateMs(rows: number): number | undefined {
    const b = CostModel.bucket(rows);
    const known = [...this.#perRow.keys()].sort((x, y) => Math.abs(x - b) - Math.abs(y - b))[0];
    return known === undefined ? undefined : this.#perRow.get(known)! * rows;
  }

  /**
   * Whether the next measured bucket above `rows` is cheaper per row by the margin. Unmeasured
   * buckets count as cheaper (optimistic: they get explored once, then the measurement decides).
   */
  biggerIsCheaper(rows: number): boolean {
    const b = CostModel.bucket(rows);
    const here = this.#perRow.get(b);
    const above = [...this.#perRow.keys()].filter((k) => k > b).sort((x, y) => x - y)[0];
    if (here === undefined) return true;
    if (above === undefined) return true;
    return this.#perRow.get(above)! < here * this.#margin;
  }

  /**
   * The most rows worth putting in one batch. The cheapest bucket wins, preferring the smaller one
   * unless a bigger one is cheaper by the margin (smaller batches answer sooner). While that is the
   * largest bucket measured there may be more to gain, so up to `maxBatchSize`; otherwise the end of
   * the cheapest bucket.
   */
  cap(maxBatchSize: number): number {
    const buckets = [...this.#perRow.keys()].sort((x, y) => x - y);
    if (buckets.length === 0) return maxBatchSize;
    let best = buckets[0]!;
    for (const b of buckets) if (this.#perRow.get(b)! < this.#perRow.get(best)! * this.#margin) best = b;
    if (best === buckets.at(-1)) return maxBatchSize;
    return Math.max(1, Math.min(maxBatchSize, 2 ** (best + 1) - 1));
  }
}
