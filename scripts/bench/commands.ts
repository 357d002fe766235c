// Counts the database commands a MongoDB driver client sends (command monitoring: the client
// must be created with monitorCommands, e.g. `monitorCommands=true` in its URL), by command and
// collection, between start() and stop().
import type mongoose from 'mongoose';

type MongoClient = InstanceType<typeof mongoose.mongo.MongoClient>;

export interface CommandCount {
  total: number;
  /**
   * Documents the commands read or wrote: a find or findAndModify is one, an insert or update
   * one per document or statement in it. Group commit cuts commands, not these: the database
   * still does the work of each.
   */
  documents: number;
  /** "<command> <collection>" -> count, most first. */
  byKind: [string, number][];
}

export class CommandCounter {
  private counts = new Map<string, number>();
  private documents = 0;
  private on = false;
  private readonly listener = (e: { commandName: string; command: Record<string, unknown> }) => {
    if (!this.on) return;
    const target = e.command[e.commandName];
    const collection = typeof target === 'string' ? target : typeof e.command.collection === 'string' ? e.command.collection : '';
    const key = `${e.commandName}${collection ? ` ${collection}` : ''}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const many = e.command.documents ?? e.command.updates ?? e.command.deletes;
    this.documents += Array.isArray(many) ? many.length : 1;
  };

  constructor(private readonly clients: MongoClient[]) {
    for (const c of clients) c.on('commandStarted', this.listener as never);
  }

  start(): void {
    this.counts.clear();
    this.documents = 0;
    this.on = true;
  }

  stop(): CommandCount {
    this.on = false;
    for (const c of this.clients) c.off('commandStarted', this.listener as never);
    const byKind = [...this.counts.entries()].sort((a, b) => b[1] - a[1]);
    return { total: byKind.reduce((s, [, n]) => s + n, 0), documents: this.documents, byKind };
  }
}

/** The same URL with command monitoring on (a MongoDB URI option the driver reads). */
export function monitored(url: string): string {
  const u = new URL(url);
  u.searchParams.set('monitorCommands', 'true');
  return u.toString();
}
