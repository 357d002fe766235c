// The HTTP API's integrator tests share this: the real App with the http-api trigger and one
// fake provider ("co", company profile by domain, $0.01 a match) over HTTP, keys made through the
// plugin's own functions, and fetch helpers for bearer calls and problem+json answers.
import { expect } from '@jest/globals';
import type { Collection } from 'mongodb';
import type { TriggerContext } from '../../../../src/plugin/contract.js';
import type { Clock } from '../../../../src/clock.js';
import { startFakeServer, type FakeServer } from '../../../../test/support/fake-http.js';
import { httpProvider } from '../../../../test/support/http-provider.js';
import { startTestApp, dropTestData } from '../../../../test/support/test-app.js';
import httpApi, { API_KEYS_COLLECTION } from '../index.js';

export interface ApiHarness {
  app: Awaited<ReturnType<typeof startTestApp>>;
  fake: FakeServer;
  base: string;
  keys: Collection;
  call(path: string, init?: { method?: string; key?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startApi(opts: { file: string; role?: 'web' | 'all'; api?: Record<string, unknown>; overrides?: Record<string, unknown>; clock?: Clock; env?: NodeJS.ProcessEnv }): Promise<ApiHarness> {
  const fake = await startFakeServer({
    'POST /co': (req) => {
      const domain = (req.json as { domain: string }).domain;
      if (domain.startsWith('nomatch-')) return { json: { found: false } };
      return { json: { found: true, fields: { 'company.name': `Name of ${domain}` }, confidence: 0.9 } };
    },
  });
  const app = await startTestApp({
    file: opts.file,
    role: opts.role ?? 'all',
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    plugins: { co: httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']], usd: 0.01 }), 'http-api': httpApi as never },
    overrides: {
      plugins: { providers: ['co'], triggers: ['http-api'] },
      providers: { co: { baseUrl: fake.url, apiKey: 'co-key' } },
      waterfalls: { companyProfile: ['co'] },
      triggers: { 'http-api': { waitMs: 30000, ratePerMinute: 100000, ratePerDay: 1000000, ...opts.api } },
      ...opts.overrides,
    },
  });
  const base = `http://127.0.0.1:${app.port}`;
  const keys = (app.registry.context('http-api') as TriggerContext).collection(API_KEYS_COLLECTION);
  return {
    app,
    fake,
    base,
    keys,
    call: (path, init = {}) =>
      fetch(`${base}${path}`, {
        method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
        headers: { ...(init.key ? { authorization: `Bearer ${init.key}` } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      }),
    async stop() {
      await app.stop();
      await dropTestData(app.names);
      await fake.close();
    },
  };
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  errors?: { path: string; message: string }[];
}

/** Asserts a problem+json answer with this status and returns it. */
export async function problem(res: Response, status: number): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as Problem;
}
