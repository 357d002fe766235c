// The dns provider against local DNS servers on loopback: published MX sets mapped to the mail
// provider, "exists without MX" and null MX as acceptsMail false, NXDOMAIN as no match, and
// SERVFAIL / REFUSED / silence / cancellation as the ProviderError kinds the engine retries on.
import { readFileSync } from 'node:fs';
import plugin from '../index.js';
import { lookup } from '../../../../test/support/provider-harness.js';
import { startDnsServer, type DnsServer } from '../../../../test/support/dns-server.js';
import { ProviderError } from '../../../../src/engine/provider-error.js';
import { startFailingDnsServer, type FailingDnsServer } from './failing-dns-server.js';

type Mx = { exchange: string; priority: number };
const published = JSON.parse(readFileSync(new URL('./fixtures/published-mx.json', import.meta.url), 'utf8')) as Record<string, Mx[] | string>;
const publishedZones = Object.fromEntries(Object.entries(published).filter(([k]) => !k.startsWith('_'))) as Record<string, Mx[]>;

let dns: DnsServer;
let failing: FailingDnsServer;

beforeAll(async () => {
  dns = await startDnsServer({
    a: { 'nomail.test': ['192.0.2.10'] },
    mx: {
      ...publishedZones,
      // Served out of preference order, with a trailing dot, mixed case and a duplicate.
      'shuffled.test': [
        { exchange: 'ALT2.ASPMX.L.GOOGLE.COM.', priority: 5 },
        { exchange: 'aspmx.l.google.com', priority: 1 },
        { exchange: 'alt1.aspmx.l.google.com', priority: 5 },
        { exchange: 'aspmx.l.google.com', priority: 1 },
      ],
      'gateway.test': [
        { exchange: 'us-smtp-inbound-1.mimecast.com', priority: 10 },
        { exchange: 'gateway-test.mail.protection.outlook.com', priority: 20 },
      ],
      'selfhosted.test': [
        { exchange: 'mail.selfhosted.test', priority: 10 },
        { exchange: 'backup-mx.isp.test', priority: 20 },
      ],
      'nullmx.test': [{ exchange: '', priority: 0 }],
    },
  });
  failing = await startFailingDnsServer({
    'gone.test': 'NXDOMAIN',
    'broken.test': 'SERVFAIL',
    'refusing.test': 'REFUSED',
    'silent.test': 'silent',
  });
});

afterAll(async () => {
  await dns.close();
  await failing.close();
});

const mx = (domain: string, config: Record<string, unknown> = {}, timeoutMs?: number) =>
  lookup(plugin, 'mx', { domain }, { baseUrl: 'dns:', config: { servers: [dns.address], ...config }, timeoutMs });

const failingMx = (domain: string, config: Record<string, unknown> = {}, timeoutMs?: number) =>
  lookup(plugin, 'mx', { domain }, { baseUrl: 'dns:', config: { servers: [failing.address], ...config }, timeoutMs });

async function providerError(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('dns provider: mx', () => {
  it('declares a free operation in the mailServer waterfall', () => {
    expect(plugin.id).toBe('dns');
    expect(plugin.requiresApiKey).toBe(false);
    expect(plugin.defaults.costs).toEqual({ mx: { usd: 0, missCharged: false } });
    const op = plugin.operations[0];
    expect(op.needs).toEqual([['domain']]);
    expect(op.returns).toContain('company.acceptsMail');
  });

  it("maps Google Workspace's published MX set, sorted by preference", async () => {
    const res = await mx('google-legacy.test');
    expect(res).toEqual({
      outcome: 'matched',
      fields: {
        'company.acceptsMail': true,
        'company.mailProvider': 'Google Workspace',
        'company.mxHosts': ['aspmx.l.google.com', 'alt1.aspmx.l.google.com', 'alt2.aspmx.l.google.com', 'alt3.aspmx.l.google.com', 'alt4.aspmx.l.google.com'],
      },
      confidence: 0.95,
      fieldConfidence: { 'company.mailProvider': 0.95 },
      raw: { domain: 'google-legacy.test', mx: publishedZones['google-legacy.test'] },
    });
  });

  it.each([
    ['google.test', 'Google Workspace'],
    ['microsoft.test', 'Microsoft 365'],
    ['microsoft-dnssec.test', 'Microsoft 365'],
    ['zoho.test', 'Zoho'],
    ['proton.test', 'Proton'],
    ['fastmail.test', 'Fastmail'],
    ['mimecast.test', 'Mimecast'],
    ['proofpoint.test', 'Proofpoint'],
    ['barracuda.test', 'Barracuda'],
    ['amazon.test', 'Amazon SES/WorkMail'],
    ['yandex.test', 'Yandex'],
    ['ovh.test', 'OVH'],
    ['godaddy.test', 'GoDaddy'],
  ])('recognizes %s as %s', async (domain, provider) => {
    const res = await mx(domain);
    expect(res.outcome).toBe('matched');
    if (res.outcome !== 'matched') return;
    expect(res.fields['company.acceptsMail']).toBe(true);
    expect(res.fields['company.mailProvider']).toBe(provider);
    expect(res.fields['company.mxHosts']).toEqual(publishedZones[domain].map((r) => r.exchange));
  });

  it('normalizes host names: lower case, no trailing dot, no duplicates', async () => {
    const res = await mx('shuffled.test');
    expect(res.outcome === 'matched' && res.fields['company.mxHosts']).toEqual(['aspmx.l.google.com', 'alt1.aspmx.l.google.com', 'alt2.aspmx.l.google.com']);
  });

  it('names the security gateway that receives the mail, not the mailbox service behind it', async () => {
    const res = await mx('gateway.test');
    expect(res.outcome === 'matched' && res.fields['company.mailProvider']).toBe('Mimecast');
  });

  it('says "other" with lower confidence for MX hosts of no known service', async () => {
    const res = await mx('selfhosted.test');
    expect(res).toMatchObject({
      outcome: 'matched',
      fields: { 'company.acceptsMail': true, 'company.mailProvider': 'other', 'company.mxHosts': ['mail.selfhosted.test', 'backup-mx.isp.test'] },
      confidence: 0.95,
      fieldConfidence: { 'company.mailProvider': 0.6 },
    });
  });

  it('answers acceptsMail false for a domain that exists without MX records', async () => {
    const res = await mx('nomail.test');
    expect(res).toEqual({ outcome: 'matched', fields: { 'company.acceptsMail': false }, confidence: 0.9, raw: { domain: 'nomail.test', mx: [] } });
  });

  it('answers acceptsMail false for an RFC 7505 null MX', async () => {
    const res = await mx('nullmx.test');
    expect(res).toMatchObject({ outcome: 'matched', fields: { 'company.acceptsMail': false }, confidence: 0.95, raw: { nullMx: true } });
    expect(res.outcome === 'matched' && res.fields).not.toHaveProperty(['company.mxHosts']);
  });

  it('answers no_match for a domain that does not exist (NXDOMAIN), after asking the configured server', async () => {
    const res = await failingMx('gone.test');
    expect(res).toEqual({ outcome: 'no_match', reason: 'gone.test does not exist in DNS (NXDOMAIN)', raw: { domain: 'gone.test', rcode: 'NXDOMAIN' } });
    expect(failing.queries).toContain('gone.test');
  });

  it('throws kind server on SERVFAIL', async () => {
    const err = await providerError(failingMx('broken.test', { tries: 1 }));
    expect(err.kind).toBe('server');
    expect(err.transient).toBe(true);
  });

  it('throws kind server on REFUSED', async () => {
    const err = await providerError(failingMx('refusing.test', { tries: 1 }));
    expect(err.kind).toBe('server');
  });

  it('throws kind timeout when the server never answers', async () => {
    const err = await providerError(failingMx('silent.test', { tries: 1, queryTimeoutMs: 100 }));
    expect(err.kind).toBe('timeout');
  });

  it("throws kind timeout when the engine's signal aborts the query", async () => {
    const started = Date.now();
    const err = await providerError(failingMx('silent.test', { tries: 1, queryTimeoutMs: 10_000 }, 200));
    expect(err.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('throws kind client for an unusable servers setting', async () => {
    const err = await providerError(lookup(plugin, 'mx', { domain: 'google.test' }, { baseUrl: 'dns:', config: { servers: ['not a server'] } }));
    expect(err.kind).toBe('client');
  });
});
