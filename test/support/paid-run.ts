// What the fault tests (test/faults/redis-restart, database-restart) run jobs through: two paid
// fake providers that keep their own invoice, a trigger that records every answer it is handed,
// the config that wires them, and small helpers to wait and to clean up without hanging.
import { z } from 'zod';
import { defineTrigger } from '../../src/plugin/contract.js';
import type { App } from '../../src/app.js';
import { startFakeServer, type FakeServer } from './fake-http.js';
import { httpProvider } from './http-provider.js';

export const PRICE = { alpha: 0.01, beta: 0.02 };
export const micros = (usd: number) => Math.round(usd * 1e6);

/** alpha has no answer (a free miss) for every fourth company; beta, asked only then, always answers. */
export const alphaKnows = (domain: string) => Number(/(\d+)\./.exec(domain)?.[1] ?? 0) % 4 !== 0;

export interface PaidFakes {
  fake: FakeServer;
  /** Micro-dollars billed per provider: a matched call costs its price, a miss nothing. */
  billed: { alpha: number; beta: number };
}

/** alpha returns company.name, beta company.description; each answers in 20-79 ms, spread the same way every run. */
export async function startPaidFakes(): Promise<PaidFakes> {
  const billed = { alpha: 0, beta: 0 };
  let n = 0;
  const delay = () => 20 + ((n++ * 37) % 60);
  const fake = await startFakeServer({
    'POST /alpha': (req) => {
      const domain = (req.json as { domain: string }).domain;
      if (!alphaKnows(domain)) return { json: { found: false }, delayMs: delay() };
      billed.alpha += micros(PRICE.alpha);
      return { json: { found: true, fields: { 'company.name': `Alpha ${domain}` }, confidence: 0.9 }, delayMs: delay() };
    },
    'POST /beta': (req) => {
      const domain = (req.json as { domain: string }).domain;
      billed.beta += micros(PRICE.beta);
      return { json: { found: true, fields: { 'company.description': `About ${domain}` }, confidence: 0.9 }, delayMs: delay() };
    },
  });
  return { fake, billed };
}

/** The answer a company's job must end with: alpha's name, or beta's description after alpha's miss. */
export const expectedAnswer = (domain: string) => (alphaKnows(domain) ? { name: `Alpha ${domain}`, description: undefined } : { name: undefined, description: `About ${domain}` });

/**
 * The paid providers, an `inbox` trigger that records `<jobId>:<address.n>:<status>` for every
 * answer it is handed, and the config for both. The worker sweeps every second and queues again
 * open jobs missing from Redis for 2 s.
 */
export function paidRunParts(fakeUrl: string, delivered: string[]) {
  const inbox = defineTrigger({
    kind: 'trigger',
    id: 'inbox',
    description: 'records the answers it is handed',
    configSchema: z.object({}),
    async deliver(result, replyTo) {
      delivered.push(`${result.jobId}:${String(replyTo.address.n)}:${result.status}`);
    },
  });
  const plugins = {
    inbox,
    alpha: httpProvider({ id: 'alpha', returns: ['company.name'], needs: [['domain']], usd: PRICE.alpha }),
    beta: httpProvider({ id: 'beta', returns: ['company.description'], needs: [['domain']], usd: PRICE.beta }),
  };
  const overrides = {
    plugins: { providers: ['alpha', 'beta'], triggers: ['inbox'] },
    providers: { alpha: { baseUrl: fakeUrl }, beta: { baseUrl: fakeUrl } },
    waterfalls: { companyProfile: ['alpha', 'beta'] },
    queue: { concurrency: 5 },
    sweeper: { intervalMs: 1000, requeueAfterMs: 2000 },
  };
  return { plugins, overrides };
}

/** Polls `fn` every 100 ms until it returns something truthy; fails after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves when `p` settles or after `ms`, whichever is first (cleanup must not hang). */
export const bounded = (p: Promise<unknown>, ms: number) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);

export interface Readiness {
  status: number;
  body: { ok: boolean; checks: Record<string, boolean> };
}

/** GET /readyz; a probe that hangs is no answer (load balancers and Kubernetes give up after a second or so). */
export async function readyz(app: App, withinMs: number): Promise<Readiness> {
  const res = await fetch(`http://127.0.0.1:${app.port}/readyz`, { signal: AbortSignal.timeout(withinMs) }).catch((err: Error) => {
    throw new Error(`/readyz did not answer within ${withinMs} ms (${err.name})`);
  });
  return { status: res.status, body: (await res.json()) as Readiness['body'] };
}

/** Probes /readyz for `forMs` (at least three times) and returns every answer. */
export async function probeReadiness(app: App, forMs: number, withinMs: number): Promise<Readiness[]> {
  const answers: Readiness[] = [];
  const end = Date.now() + forMs;
  while (Date.now() < end || answers.length < 3) {
    answers.push(await readyz(app, withinMs));
    await new Promise((r) => setTimeout(r, 100));
  }
  return answers;
}
