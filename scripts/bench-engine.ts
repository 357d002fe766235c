// `npm run bench`: every benchmark part on real Redis and MongoDB (MONGODB_URL, REDIS_URL; the
// local ones by default), on databases and queue prefixes of its own, removed afterwards; then
// docs/benchmarks.md is written from scripts/bench/benchmarks-template.md and the results
// (report.ts). BENCH_ONLY picks parts, by letter or name (e.g. "a,c", "slack,cost"); the doc keeps
// the other parts' last results, each with its machine and date. BENCH_WRITE=no writes nothing.
// What each part measures: docs/benchmarks.md "How to run", and the head of each part's module.
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { redactUrl } from '../src/store/store.js';
import { CONCURRENCY, MONGODB_URL, PREFIX, REDIS_URL, cleanUp, dbUrl, num, startApp, table } from './bench/app.js';
import { startFakeProvider, type FakeProvider } from './bench/fake-provider.js';
import { realProviders, standIn } from './bench/providers.js';
import { ThroughputParts } from './bench/throughput.js';
import { LATENCY_MS, pacingBench } from './bench/pacing.js';
import { csvBench } from './bench/csv.js';
import { estimateBench } from './bench/estimate.js';
import { batchTail } from './bench/batch-tail.js';
import { slackBench } from './bench/slack-ack.js';
import { hubspotBench } from './bench/hubspot-calls.js';
import { costBench } from './bench/cost.js';
import { scaleBench } from './bench/scale.js';
import { describeMachine, runPart, writeDoc, type PartResult, type ResultRow } from './bench/report.js';

const TAIL_ROWS = num('BENCH_TAIL_ROWS', 2000);

async function estimatePart(fake: FakeProvider): Promise<ResultRow[]> {
  const defaults = loadConfig({ useDefaultFile: true, env: {} });
  const ids = [...new Set(Object.values(defaults.waterfalls).flat())];
  const plugins = Object.fromEntries((await realProviders(ids)).map((p) => [p.id, standIn(p)]));
  const app = await startApp({ role: 'all', mongodbUrl: dbUrl('f'), prefix: `${PREFIX}-f`, plugins, baseUrl: fake.url, waterfalls: defaults.waterfalls, concurrency: CONCURRENCY });
  try {
    const r = await estimateBench(app, fake);
    console.log(`estimate of ${r.rows} rows (${r.duplicates} duplicates, ${r.fresh} fresh, ${r.cachedAnswers} cached answers) against ${r.records} records and ${r.cacheRows} cached answers:`);
    console.log(`  ${r.seconds.toFixed(2)} s (goal: under 2 s); expected $${r.expectedUsd.toFixed(2)}, at most $${r.worstUsd.toFixed(2)}; provider calls made: ${r.calls} (goal: 0)`);
    return [
      { what: `estimate of ${r.rows.toLocaleString('en-US')} rows (${r.duplicates} duplicates) against ${r.records} records and ${r.cacheRows} cached answers`, result: `${r.seconds.toFixed(2)} s`, goal: 'under 2 s', met: r.seconds < 2 },
      { what: 'provider calls made by the estimate', result: String(r.calls), goal: 'none', met: r.calls === 0 },
    ];
  } finally {
    await app.stop();
  }
}

async function batchTailPart(): Promise<ResultRow[]> {
  // Provider timeout well above the time it takes to queue the rows while it holds its answers.
  const tail = await batchTail((o) => startApp({ role: 'all', mongodbUrl: dbUrl('g'), prefix: `${PREFIX}-g`, plugins: o.plugins, baseUrl: o.baseUrl, waterfalls: { companyProfile: ['tail'] }, concurrency: CONCURRENCY, timeoutMs: 600_000 }), TAIL_ROWS);
  console.log(`batch tail: ${tail.rows} rows naming ${tail.identities} companies, every row waiting when the provider answers. Goal: >= 500 rows/s.`);
  console.log(table([
    ['rows', 'seconds (first job done -> batch finished)', 'rows/s', 'writes to batch_items', 'goal met'],
    [String(tail.rows), tail.seconds.toFixed(2), tail.rowsPerSecond.toFixed(0), String(tail.itemWrites), tail.rowsPerSecond >= 500 ? 'yes' : 'no'],
  ]));
  return [{ what: `a batch's tail: ${tail.rows} rows naming ${tail.identities} companies, first job done to batch finished`, result: `${tail.rowsPerSecond.toFixed(0)} rows/s (${tail.seconds.toFixed(2)} s), ${tail.itemWrites} writes to batch_items`, goal: 'at least 500 rows/s', met: tail.rowsPerSecond >= 500 }];
}

interface Part {
  id: string;
  name: string;
  title: string;
  run: () => Promise<ResultRow[]>;
}

function parts(fake: FakeProvider): Part[] {
  const throughput = new ThroughputParts(fake);
  return [
    { id: 'a', name: 'company', title: 'company request, one provider', run: () => throughput.runCompany() },
    { id: 'b', name: 'person', title: 'person request, default waterfalls', run: () => throughput.runPerson() },
    { id: 'c', name: 'floor', title: 'the floor: bee-queue, 1 read + 1 write per job', run: () => throughput.runFloor() },
    { id: 'd', name: 'pacing', title: `pacing against a provider's rate limit (${LATENCY_MS} ms answers)`, run: () => pacingBench(fake) },
    { id: 'e', name: 'csv', title: 'CSV read and write', run: async () => csvBench() },
    { id: 'f', name: 'estimate', title: 'the estimate before bulk work', run: () => estimatePart(fake) },
    { id: 'g', name: 'tail', title: "a batch's tail", run: () => batchTailPart() },
    { id: 'h', name: 'slack', title: 'Slack: /enrich acknowledgement and command to card', run: () => slackBench(fake) },
    { id: 'i', name: 'hubspot', title: 'HubSpot write-back calls', run: () => hubspotBench(fake) },
    { id: 'j', name: 'cost', title: 'cost: paid calls', run: () => costBench() },
    { id: 'k', name: 'scale', title: 'scale across worker processes', run: () => scaleBench(fake) },
  ];
}

async function main(): Promise<void> {
  const only = new Set((process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
  console.log(`enrichbot benchmark: MongoDB ${redactUrl(dbUrl('*'))}, Redis ${redactUrl(REDIS_URL)}, queue prefix ${PREFIX}-*`);
  const machine = await describeMachine(MONGODB_URL, REDIS_URL);
  console.log(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.ramGb} GB RAM, Node ${machine.node}, Redis ${machine.redis}, ${machine.database}`);
  const fake = await startFakeProvider({ rate: 20, latencyMs: LATENCY_MS });
  const list = parts(fake);
  const unknown = [...only].filter((o) => !list.some((p) => p.id === o || p.name === o));
  if (unknown.length) {
    await fake.close();
    throw new Error(`BENCH_ONLY names no part ${unknown.join(', ')}: use ${list.map((p) => `${p.id} (${p.name})`).join(', ')}`);
  }
  const results: PartResult[] = [];
  let failed = false;
  const t0 = performance.now();
  try {
    for (const part of list) {
      if (only.size && !only.has(part.id) && !only.has(part.name)) continue;
      console.log(`\n(${part.id}) ${part.title}`);
      results.push(await runPart(part.id, part.title, machine, part.run));
    }
  } catch (err) {
    failed = true;
    console.error('benchmark failed:', err);
  } finally {
    await fake.close();
    await cleanUp().catch((err) => console.error('clean-up failed:', err));
  }
  console.log(`\nparts: ${results.map((r) => `(${r.part}) ${r.seconds.toFixed(1)} s`).join(', ')}; whole run ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (results.length && process.env.BENCH_WRITE !== 'no') {
    writeDoc(results);
    console.log(`written: docs/benchmarks.md (${results.map((r) => r.part).join(', ')})`);
  }
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
