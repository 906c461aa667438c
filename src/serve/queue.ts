/**
 * Runs jobs one at a time in arrival order: the in-process model has one context, so requests
 * take turns instead of interleaving.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Jobs queued or running. */
  get size(): number {
    return this.waiting;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    this.waiting += 1;
    const result = this.tail.then(job).finally(() => {
      this.waiting -= 1;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once no job is queued or running. */
  async idle(): Promise<void> {
    while (this.waiting > 0) await this.tail;
  }
}
