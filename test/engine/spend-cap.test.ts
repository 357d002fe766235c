// Daily spend caps under real concurrency: two App "processes" sharing one queue, Redis and
// database, 40 workers competing for one budget; jobs the cap stops pause until the next UTC
// midnight and the sweeper resumes them on a new day's budget. Time comes from a ManualClock.
import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';
import { ManualClock, nextUtcMidnight, utcDay } from '../../src/clock.js';
import type { App } from '../../src/app.js';
import type { JobResult } from '../../src/engine/types.js';

type TestApp = App & { names: { prefix: string; mongodbUrl: string; redisUrl: string; dbName: string } };

const PRICE = 0.01;
const paid = httpProvider({ id: 'paid', returns: ['company.name'], needs: [['domain']], usd: PRICE });

let fake: FakeServer;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  fake = await startFakeServer();
  fake.on('POST /paid', async (req) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 50)); // long enough for many calls to overlap
    inFlight--;
    return { json: { found: true, fields: { 'company.name': `Co ${(req.json as { domain: string }).domain}` }, confidence: 0.9 } };
  });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  maxInFlight = 0;
});

function appOptions(file: string, clock: ManualClock, spendCaps: Record<string, unknown>) {
  return {
    file,
    clock,
    plugins: { paid },
    overrides: {
      plugins: { providers: ['paid'] },
      providers: { paid: { baseUrl: fake.url } },
      waterfalls: { companyProfile: ['paid'] },
      queue: { concurrency: 20 },
      spendCaps: { dailyUsd: null, perWorkspaceDailyUsd: null, ...spendCaps },
    },
  };
}

/** Waits until no job of this app's database is queued or running. */
async function settled(app: TestApp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await app.store.models.Job.countDocuments({ status: { $in: ['queued', 'running'] } })) > 0) {
    if (Date.now() > deadline) throw new Error('jobs still queued or running');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const micros = (usd: number) => Math.round(usd * 1e6);
async function chargedMicros(app: TestApp, match: Record<string, unknown>): Promise<number> {
  const rows = await app.store.models.Ledger.find({ ...match, charged: true }).lean();
  return rows.reduce((s, r) => s + micros(r.costUsd ?? 0), 0);
}
const statusCounts = async (app: TestApp, workspace?: string) => {
  const docs = await app.store.models.Job.find(workspace ? { workspace } : {}).lean();
  const out: Record<string, number> = {};
  for (const d of docs) out[d.status] = (out[d.status] ?? 0) + 1;
  return out;
};

describe('the global daily cap with 40 workers in two processes', () => {
  const CAP = 0.1;
  const clock = new ManualClock(Date.UTC(2031, 2, 14, 15, 30));
  let a: TestApp;
  let b: TestApp;
  const ran = { a: 0, b: 0 };

  beforeAll(async () => {
    a = await startTestApp(appOptions('engine-spend-cap', clock, { dailyUsd: CAP }));
    b = await startTestApp({ ...appOptions('engine-spend-cap', clock, { dailyUsd: CAP }), names: a.names });
    a.queue.bee.on('succeeded', () => ran.a++);
    b.queue.bee.on('succeeded', () => ran.b++);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    if (a) await dropTestData(a.names);
  });

  test('racing workers never spend past the cap; the rest pause until midnight and finish on later days', async () => {
    const inputs = Array.from({ length: 40 }, (_, i) => `capped${i}.com`);
    const jobs = await Promise.all(inputs.map((input) => a.enqueue({ workspace: 'w1', input, groups: ['companyProfile'] })));
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(40);
    await settled(a);

    const day1 = utcDay(clock.now());
    // Exact reservations: not even one call's cost over the cap.
    expect(await chargedMicros(a, { day: day1 })).toBeLessThanOrEqual(micros(CAP));
    expect(await chargedMicros(a, { day: day1 })).toBe(micros(CAP)); // and the budget was used up
    expect(fake.requests).toHaveLength(10); // no paid call beyond the budget was even made
    expect(maxInFlight).toBeGreaterThan(1); // the calls really raced
    expect(ran.a).toBeGreaterThan(0);
    expect(ran.b).toBeGreaterThan(0); // both processes' workers took jobs
    expect(await statusCounts(a)).toEqual({ done: 10, paused: 30 });

    const midnight = nextUtcMidnight(clock.now());
    const paused = await a.store.models.Job.find({ status: 'paused' }).lean();
    for (const job of paused) {
      expect(job.resumeAt?.toISOString()).toBe(midnight.toISOString());
      const result = job.result as JobResult;
      expect(result.status).toBe('paused');
      expect(result.resumeAt).toBe(midnight.toISOString());
      expect(result.costUsd).toBe(0);
      expect(result.outcomes).toEqual([
        expect.objectContaining({ provider: 'paid', outcome: 'cap_reached', costUsd: 0, reason: expect.stringContaining('the daily spend cap of $0.10 is reached') }),
      ]);
    }

    // Before midnight the sweeper leaves them alone.
    clock.set(midnight.getTime() - 1000);
    expect((await a.sweeper!.runOnce()).resumed).toBe(0);

    // Each new day brings a new budget: ten more jobs finish per day until none is left.
    let done = 10;
    for (let day = 2; done < 40; day++) {
      clock.set(nextUtcMidnight(clock.now()).getTime() + 60_000);
      const waiting = 40 - done;
      expect((await a.sweeper!.runOnce()).resumed).toBe(waiting);
      await settled(a);
      done += Math.min(10, waiting);
      expect(await chargedMicros(a, { day: utcDay(clock.now()) })).toBe(micros(Math.min(CAP, waiting * PRICE)));
      expect(await statusCounts(a)).toEqual(done < 40 ? { done, paused: 40 - done } : { done: 40 });
      expect(day).toBeLessThanOrEqual(4);
    }
    expect(fake.requests).toHaveLength(40); // every input was paid for exactly once
    const results = await Promise.all(jobs.map((j) => a.service.waitFor(j.jobId, 5000)));
    expect(results.every((r) => r.status === 'done' && r.company?.fields.name.value === `Co ${r.display}`)).toBe(true);
  }, 90_000);
});

describe('a per-workspace cap', () => {
  const clock = new ManualClock(Date.UTC(2031, 5, 1, 9, 0));
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp(appOptions('engine-spend-cap-ws', clock, { workspaces: { small: 0.03 } }));
  });
  afterAll(async () => {
    await app?.stop();
    if (app) await dropTestData(app.names);
  });

  test('stops only its own workspace: the other keeps running', async () => {
    const small = Array.from({ length: 8 }, (_, i) => `small${i}.com`);
    const big = Array.from({ length: 8 }, (_, i) => `big${i}.com`);
    // The capped workspace's jobs go first, so the others run after its cap is reached.
    for (const input of small) await app.enqueue({ workspace: 'small', input, groups: ['companyProfile'] });
    await Promise.all(big.map((input) => app.enqueue({ workspace: 'big', input, groups: ['companyProfile'] })));
    await settled(app);

    const day = utcDay(clock.now());
    expect(await chargedMicros(app, { day, workspace: 'small' })).toBe(micros(0.03));
    expect(await chargedMicros(app, { day, workspace: 'big' })).toBe(micros(0.08));
    expect(await statusCounts(app, 'small')).toEqual({ done: 3, paused: 5 });
    expect(await statusCounts(app, 'big')).toEqual({ done: 8 });

    const paused = await app.store.models.Job.find({ workspace: 'small', status: 'paused' }).lean();
    for (const job of paused) {
      expect(job.resumeAt?.toISOString()).toBe(nextUtcMidnight(clock.now()).toISOString());
      expect((job.result as JobResult).outcomes[0]).toMatchObject({ outcome: 'cap_reached', reason: expect.stringContaining("workspace small's daily spend cap of $0.03 is reached") });
    }
    // A new request for the capped workspace pauses at once; the other workspace still runs.
    const more = await app.enrichAndWait({ workspace: 'small', input: 'small-late.com', groups: ['companyProfile'] });
    expect(more.status).toBe('paused');
    const other = await app.enrichAndWait({ workspace: 'big', input: 'big-late.com', groups: ['companyProfile'] });
    expect(other.status).toBe('done');
    expect(other.costUsd).toBeCloseTo(PRICE, 6);
  }, 60_000);
});
