// Time comes from an injected clock so tests can move to "the next UTC midnight".
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock a test can move by hand; starts at `start`. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start: Date | number = Date.now()) {
    this.t = typeof start === 'number' ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(to: Date | number): void {
    this.t = typeof to === 'number' ? to : to.getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** YYYY-MM-DD in UTC: the ledger and spend counters group by it. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function nextUtcMidnight(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));
}
