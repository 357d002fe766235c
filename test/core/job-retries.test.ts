// A job whose run keeps throwing (here: a provider plugin whose answer blows up when the engine
// reads it, a plugin bug outside any provider error) is retried queue.retries times and then
// recorded as failed with a clear reason, and its requester gets that answer.
import { z } from 'zod';
import { defineProvider } from '../../src/plugin/contract.js';
import { ErrorCodes } from '../../src/errors.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import type { App } from '../../src/app.js';

let runs = 0;
const buggy = defineProvider({
  kind: 'provider',
  id: 'buggy',
  description: 'answers with a result that throws when read',
  configSchema: z.object({}).loose(),
  requiresApiKey: false,
  defaults: { costs: { lookup: { usd: 0, missCharged: false } } },
  operations: [
    {
      name: 'lookup',
      needs: [['domain']],
      returns: ['company.name'],
      async lookup() {
        runs++;
        const result = { outcome: 'matched' as const, confidence: 0.9, fields: {} as Record<string, unknown> };
        Object.defineProperty(result, 'fields', { enumerable: true, get: () => { throw new Error('plugin bug: fields unreadable'); } });
        return result as never;
      },
    },
  ],
});

let app: App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };
beforeAll(async () => {
  app = await startTestApp({
    file: 'core-job-retries',
    plugins: { buggy },
    overrides: { plugins: { providers: ['buggy'] }, waterfalls: { companyProfile: ['buggy'] }, queue: { retries: 2, retryBackoffMs: 10 } },
  });
});
afterAll(async () => {
  await app?.stop();
  if (app) await dropTestData(app.names);
});

test('a run that keeps throwing is tried 1 + retries times, then the job fails with the reason', async () => {
  const r = await app.enrichAndWait({ workspace: 'w', input: 'buggy.com', groups: ['companyProfile'] }, 30_000);
  expect(r.status).toBe('failed');
  expect(r.errorCode).toBe(ErrorCodes.JOB_FAILED);
  expect(r.error).toMatch(/failed after its retries: .*plugin bug/);
  expect(runs).toBe(3);
  const doc = await app.store.models.Job.findOne({ jobId: r.jobId }).lean();
  expect(doc?.status).toBe('failed');
}, 45_000);
