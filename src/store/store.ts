// The store is the memory: records, jobs, the ledger and provider caches live in MongoDB.
import mongoose, { type Connection } from 'mongoose';
import { registerModels, type Models } from './models.js';
import { registerServiceModels, type ServiceModels } from './service-models.js';
import { EnrichbotError, ErrorCodes } from '../errors.js';

export interface Store {
  connection: Connection;
  models: Models & ServiceModels;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//[redacted]@');
}

export async function connectStore(url: string, opts: { serverSelectionTimeoutMS?: number } = {}): Promise<Store> {
  const connection = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 5000,
    autoIndex: false,
    // Command events let tests and the benchmark count database round trips.
    monitorCommands: true,
  });
  try {
    await connection.asPromise();
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw new EnrichbotError(
      ErrorCodes.SERVICE_UNREACHABLE,
      `MongoDB is not reachable at ${redactUrl(url)}: start it (docker compose up mongo) or set MONGODB_URL.`,
      { cause: err },
    );
  }
  const models = { ...registerModels(connection), ...registerServiceModels(connection) };
  await Promise.all(Object.values(models).map((m) => m.createIndexes()));
  // Cached answers were once unique per input hash; now one answer is filed under each identity
  // it is about, and the old unique index would refuse those rows in a database made before.
  await models.Cache.collection.dropIndex('workspace_1_provider_1_operation_1_inputHash_1').catch(() => undefined);
  return {
    connection,
    models,
    async ping() {
      try {
        await connection.db!.admin().command({ ping: 1 });
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await connection.close();
    },
  };
}
