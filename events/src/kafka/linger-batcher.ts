export interface LingerBatcherOptions<T> {
  /** Sends one batch; resolves once every item in it is acknowledged, rejects otherwise. */
  send: (batch: T[]) => Promise<void>;
  /** Send when this many items are buffered. */
  maxBatchSize: number;
  /** Or when the oldest buffered item has waited this long. 0 sends on the next tick. */
  lingerMs: number;
}

/** One `add` call: settles once all its items are sent (resolve) or once any batch holding some fails. */
interface Ticket {
  /** Items still in the buffer, not yet handed to a send. */
  buffered: number;
  /** Sends holding some of its items that have not settled. */
  sending: number;
  failed: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Segment<T> {
  ticket: Ticket;
  items: T[];
}

/**
 * Gathers items from many callers into batches of at most `maxBatchSize`, sent after `lingerMs` or as
 * soon as a batch is full, and settles each caller's promise with the fate of its own items. One
 * promise per caller, not per item: with thousands of items per call, per-item promises cost the
 * producer more CPU than encoding the records.
 *
 * @example
 * const batcher = new LingerBatcher({ send: (batch) => producer.send(batch), maxBatchSize: 500, lingerMs: 5 });
 * await batcher.add(records); // resolves once these records are acknowledged
 */
export class LingerBatcher<T> {
  readonly #options: LingerBatcherOptions<T>;
  #buffer: Segment<T>[] = [];
  #bufferedCount = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #inflight = new Set<Promise<void>>();

  constructor(options: LingerBatcherOptions<T>) {
    if (!(options.maxBatchSize >= 1)) throw new Error("LingerBatcher: maxBatchSize must be at least 1");
    this.#options = options;
  }

  /** Items waiting for a send (not those already in flight). */
  get buffered(): number {
    return this.#bufferedCount;
  }

  add(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    let ticket!: Ticket;
    const done = new Promise<void>((resolve, reject) => {
      ticket = { buffered: items.length, sending: 0, failed: false, resolve, reject };
    });
    this.#buffer.push({ ticket, items });
    this.#bufferedCount += items.length;
    if (this.#bufferedCount >= this.#options.maxBatchSize) void this.flush();
    else if (!this.#timer) this.#timer = setTimeout(() => void this.flush(), this.#options.lingerMs);
    return done;
  }

  /** Sends everything buffered now and waits for all sends in flight (it never rejects). */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#bufferedCount > 0) {
      const segments = this.#take(this.#options.maxBatchSize);
      const send = this.#send(segments);
      this.#inflight.add(send);
      void send.finally(() => this.#inflight.delete(send));
    }
    await Promise.all([...this.#inflight]);
  }

  /** Takes up to `max` items off the front of the buffer, splitting a caller's items if needed. */
  #take(max: number): Segment<T>[] {
    const out: Segment<T>[] = [];
    let room = max;
    while (room > 0 && this.#buffer.length > 0) {
      const head = this.#buffer[0] as Segment<T>;
      let items = head.items;
      if (items.length <= room) {
        this.#buffer.shift();
      } else {
        items = head.items.slice(0, room);
        head.items = head.items.slice(room);
      }
      room -= items.length;
      this.#bufferedCount -= items.length;
      head.ticket.buffered -= items.length;
      head.ticket.sending++;
      out.push({ ticket: head.ticket, items });
    }
    return out;
  }

  async #send(segments: Segment<T>[]): Promise<void> {
    const batch =
      segments.length === 1 ? (segments[0] as Segment<T>).items : segments.flatMap((s) => s.items);
    let error: unknown;
    let ok = true;
    try {
      await this.#options.send(batch);
    } catch (err) {
      ok = false;
      error = err;
    }
    for (const { ticket } of segments) {
      ticket.sending--;
      if (ticket.failed) continue;
      if (!ok) {
        ticket.failed = true;
        ticket.reject(error);
      } else if (ticket.sending === 0 && ticket.buffered === 0) {
        ticket.resolve();
      }
    }
  }
}
