import { startFakeServer, type FakeServer } from '../support/fake-http.js';
import { httpProvider } from '../support/http-provider.js';
import { startTestApp, dropTestData } from '../support/test-app.js';

test('probe', async () => {
  const fake = await startFakeServer();
  const co = httpProvider({ id: 'co', returns: ['company.name'], needs: [['domain']], usd: 0.004 });
  const app = await startTestApp({ file: 'probe', plugins: { co }, overrides: { plugins: { providers: ['co'] }, providers: { co: { baseUrl: fake.url } }, waterfalls: { companyProfile: ['co'] }, queue: { concurrency: Number(process.env.CONC ?? 5) } } });
  fake.on('POST /co', () => ({ json: { found: true, fields: { 'company.name': 'X' }, confidence: 0.9 } }));
  const t0 = Date.now();
  const jobs = await Promise.all(Array.from({ length: 40 }, (_, i) => app.enqueue({ workspace: 'w', input: `p${i}.com`, groups: ['companyProfile'] })));
  const t1 = Date.now();
  let done = 0;
  await new Promise<void>((res) => app.queue.bee.on('succeeded', () => { if (++done === 40) res(); }));
  const t2 = Date.now();
  console.log('enqueue', t1 - t0, 'run', t2 - t1);
  const t3 = Date.now();
  for (const { jobId } of jobs) await app.queue.waitFor(jobId, 10000);
  console.log('waitFor', Date.now() - t3);
  await app.stop(); await dropTestData(app.names); await fake.close();
}, 120000);
