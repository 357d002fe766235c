// The digest's text and chart from a given report, without a database: the week-on-week change,
// month to date with its forecast, and the cap line. digest.test.ts checks the same figures as
// computed from a real ledger.
import type { DailyReport, QueueHealth, SpendSeries } from '../../../../src/plugin/service.js';
import { buildDigest } from '../digest.js';
import { spendChartSvg } from '../chart.js';

const queue: QueueHealth = { waiting: 0, active: 0, delayed: 0, failed: 0, succeeded: 3 };

const report = (over: Partial<DailyReport> = {}): DailyReport => ({
  day: '2026-02-27',
  totalUsd: 0.2,
  jobChanges: 0,
  caps: { dailyUsd: 10, perWorkspaceDailyUsd: 1 },
  providers: [{ provider: 'apollo', calls: 1, hits: 1, hitRate: 1, cached: 0, costUsd: 0.2 }],
  workspaces: [{ workspace: 'T1', costUsd: 0.2, capUsd: 1 }],
  emailsFound: 0,
  costPerEmailUsd: null,
  errors: [],
  breakers: [],
  pausedJobs: { count: 0, jobs: [] },
  pushFailures: [],
  sameDayLastWeek: { day: '2026-02-20', totalUsd: 5 },
  monthToDate: { from: '2026-02-01', through: '2026-02-27', daysInMonth: 28, totalUsd: 5.2, forecastUsd: 5.392593, workspaces: [{ workspace: 'T1', costUsd: 5.2, forecastUsd: 5.392593 }, { workspace: '<!here>', costUsd: 0.01, forecastUsd: 0.010370 }] },
  balances: [],
  batchEstimates: { count: 0, batches: [] },
  deliverableEmails: [],
  ...over,
});

test('the headline gives the change against the same weekday last week', () => {
  expect(buildDigest(report(), queue).plain.split('\n')[1]).toBe('Spend $0.2000 of $10.00 daily cap (2.0%) · -96.0% vs Fri 2026-02-20 ($5.00)');
  const up = buildDigest(report({ totalUsd: 7.5, sameDayLastWeek: { day: '2026-02-20', totalUsd: 5 } }), queue);
  expect(up.plain.split('\n')[1]).toBe('Spend $7.50 of $10.00 daily cap (75.0%) · +50.0% vs Fri 2026-02-20 ($5.00)');
  const fresh = buildDigest(report({ sameDayLastWeek: { day: '2026-02-20', totalUsd: 0 } }), queue);
  expect(fresh.plain.split('\n')[1]).toBe('Spend $0.2000 of $10.00 daily cap (2.0%) · new spend vs Fri 2026-02-20 ($0.00)');
});

test('month to date lists every workspace with its forecast to the month end, escaped for mrkdwn', () => {
  const d = buildDigest(report(), queue);
  const lines = d.plain.split('\n');
  const at = lines.indexOf('Month to date (2026-02-01 to 2026-02-27)');
  expect(lines.slice(at, at + 4)).toEqual([
    'Month to date (2026-02-01 to 2026-02-27)',
    '  - all workspaces: $5.20, forecast $5.39 by 2026-02-28',
    '  - T1: $5.20, forecast $5.39 by 2026-02-28',
    '  - <!here>: $0.01, forecast $0.01 by 2026-02-28',
  ]);
  expect(d.text).toContain('&lt;!here&gt;: $0.01');
  expect(`${d.text}${JSON.stringify(d.blocks)}`).not.toContain('<!here>');
});

test('the chart draws the daily cap as a line above the bars, and none without a cap', () => {
  const series: SpendSeries = { days: ['2026-02-26', '2026-02-27'], providers: ['apollo'], usd: { apollo: [0.3, 0.2] }, capUsd: 10 };
  const svg = spendChartSvg(series);
  expect(svg).toContain('daily cap $10.00');
  // The axis reaches past the cap (its top label is $12), so the line is inside the plot.
  expect(svg).toContain('>$12</text>');
  const none = spendChartSvg({ ...series, capUsd: null });
  expect(none).not.toContain('daily cap');
  expect(none).not.toContain('>$12</text>');
});

test('job changes found that day are counted in the digest, and the section is left out on a day with none', () => {
  const d = buildDigest(report({ jobChanges: 3 }), queue);
  const lines = d.plain.split('\n');
  const at = lines.indexOf('Job changes');
  expect(lines.slice(at, at + 2)).toEqual(['Job changes', '  - 3 people changed company or title (see their records, or the cards posted where they were last asked about)']);
  expect(buildDigest(report({ jobChanges: 0 }), queue).plain).not.toContain('Job changes');
});

test('open CRM conflicts are counted with where to settle them, and left out when there are none', () => {
  const lines = buildDigest(report(), queue, { openConflicts: 4 }).plain.split('\n');
  const at = lines.indexOf('CRM conflicts');
  expect(lines.slice(at, at + 2)).toEqual(['CRM conflicts', '  - 4 open: a provider disagrees with a filled HubSpot value (Accept or Keep them in the Slack App Home)']);
  expect(buildDigest(report(), queue, { openConflicts: 0 }).plain).not.toContain('CRM conflicts');
  expect(buildDigest(report(), queue).plain).not.toContain('CRM conflicts');
});
