/**
 * Many shared holders or one exclusive holder, exclusive waiters first (no starvation under a
 * steady stream of batches). Keeps a reconcile (read Postgres total, overwrite Redis) from
 * interleaving with a batch of this process between its commit and its Redis increment, which
 * would lose or double that batch's spend. Other replicas are not covered: see the ingestor's note.
 */
export class SharedExclusiveGate {
  #shared = 0;
  #exclusive = false;
  #waitingExclusive = 0;
  #wakers: (() => void)[] = [];

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive || this.#waitingExclusive > 0) await this.#wait();
    this.#shared++;
    try {
      return await fn();
    } finally {
      this.#shared--;
      this.#wake();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.#waitingExclusive++;
    try {
      while (this.#exclusive || this.#shared > 0) await this.#wait();
    } finally {
      this.#waitingExclusive--;
    }
    this.#exclusive = true;
    try {
      return await fn();
    } finally {
      this.#exclusive = false;
      this.#wake();
    }
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#wakers.push(resolve));
  }

  #wake(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const w of wakers) w();
  }
}
