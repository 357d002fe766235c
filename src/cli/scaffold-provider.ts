// The files `enrichbot new provider <id>` writes: a working provider for a made-up "find a work
// email by name at a domain" API, its README, a fixture server speaking that API and a test that
// passes as generated. The author then swaps in the real API's paths, fields and prices.
export interface ScaffoldPaths {
  /** Import path of the plugin SDK from the plugin folder (src/sdk/index.js). */
  sdk: string;
  /** Import path of test/support/provider-harness.js from the plugin's test folder. */
  harness: string;
}

const envName = (id: string) => id.toUpperCase().replace(/[^A-Z0-9]+/g, '_');

export function providerFiles(id: string, paths: ScaffoldPaths): Record<string, string> {
  const env = envName(id);
  return {
    'index.ts': `// ${id} (paid): a work email from a full name at a company domain.
// API: GET /v1/find?name=<full name>&domain=<domain>, header Authorization: Bearer <key>;
// 200 {"email": "...", "score": 0-100}; 404 when nobody is found (not charged).
// Replace this with the real API: its docs URL, its quirks, its prices and their source.
import { defineProvider, workEmail, z, type LookupResult } from '${paths.sdk}';

const FindResponse = z.object({
  email: z.string().nullable(),
  score: z.number().min(0).max(100).optional(),
});

export default defineProvider({
  kind: 'provider',
  id: '${id}',
  description: '${id}: work email from a full name at a company domain.',
  configSchema: z.object({
    /** Answers scored below this (0-100) are treated as a miss. */
    minScore: z.number().min(0).max(100).default(50),
  }),
  requiresApiKey: true,
  defaults: {
    baseUrl: 'https://api.${id}.invalid',
    costs: { 'find-email': { usd: 0.01, missCharged: false } },
    ratePerSecond: 5,
  },
  operations: [
    {
      name: 'find-email',
      needs: [['fullName', 'domain'], ['firstName', 'lastName', 'domain']],
      returns: ['person.workEmail'],
      async lookup(input, ctx): Promise<LookupResult> {
        const name = input.fullName ?? \`\${input.firstName} \${input.lastName}\`;
        const res = await ctx.http.request({
          path: '/v1/find',
          query: { name, domain: input.domain },
          headers: { authorization: \`Bearer \${ctx.settings.apiKey ?? ''}\` },
          schema: FindResponse,
        });
        if (res.kind === 'no_match') return { outcome: 'no_match', reason: \`${id} answered HTTP \${res.status}\`, raw: res.raw, httpStatus: res.status };
        const email = workEmail(res.body.email);
        const score = res.body.score ?? 50;
        if (!email || score < ctx.config.minScore) {
          return { outcome: 'no_match', reason: email ? \`score \${score} is below minScore\` : 'no usable address', raw: res.raw, httpStatus: res.status };
        }
        return { outcome: 'matched', fields: { 'person.workEmail': email }, confidence: score / 100, raw: res.raw, httpStatus: res.status };
      },
    },
  ],
});
`,
    'README.md': `# ${id}

A provider plugin: a work email from a full name at a company domain.

## Enable it

\`\`\`yaml
plugins:
  providers: [..., ${id}]
waterfalls:
  workEmail: [..., ${id}]
providers:
  ${id}:
    minScore: 60   # answers scored below are a miss
\`\`\`

Set \`${env}_API_KEY\` (and \`${env}_BASE_URL\` to point it at another host).

## Costs

\`find-email\`: $0.01 per address found, misses free (replace with the real price and its source).

## Tests

\`test/fixture-server.ts\` speaks the API on a local port; \`test/${id}.test.ts\` runs the plugin
through the engine's HTTP client against it (no network).
`,
    'test/fixture-server.ts': `// A local stand-in for the ${id} API, speaking its wire format: GET /v1/find answers the one
// person it knows and 404 for anyone else. Every request is kept so a test can check what was sent.
import http from 'node:http';

export interface FixtureServer {
  url: string;
  requests: { path: string; query: URLSearchParams; authorization?: string }[];
  close(): Promise<void>;
}

export async function startFixtureServer(): Promise<FixtureServer> {
  const requests: FixtureServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    const known = url.pathname === '/v1/find' && url.searchParams.get('name') === 'Jane Doe' && url.searchParams.get('domain') === 'acme.com';
    res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(known ? { email: 'Jane.Doe@acme.com', score: 92 } : { error: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: \`http://127.0.0.1:\${port}\`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
`,
    [`test/${id}.test.ts`]: `// ${id} against its local fixture server, through the engine's provider HTTP client.
import plugin from '../index.js';
import { lookup } from '${paths.harness}';
import { startFixtureServer, type FixtureServer } from './fixture-server.js';

let api: FixtureServer;
beforeEach(async () => {
  api = await startFixtureServer();
});
afterEach(async () => {
  await api.close();
});

test('a known person comes back as a lower-cased work email with the API score as confidence', async () => {
  const result = await lookup(plugin, 'find-email', { fullName: 'Jane Doe', domain: 'acme.com' }, { baseUrl: api.url, apiKey: 'test-key' });
  expect(result).toMatchObject({ outcome: 'matched', fields: { 'person.workEmail': 'jane.doe@acme.com' }, confidence: 0.92, httpStatus: 200 });
  expect(api.requests[0].authorization).toBe('Bearer test-key');
});

test('an unknown person (404) is a miss, not an error', async () => {
  const result = await lookup(plugin, 'find-email', { firstName: 'No', lastName: 'Body', domain: 'acme.com' }, { baseUrl: api.url, apiKey: 'test-key' });
  expect(result).toMatchObject({ outcome: 'no_match', httpStatus: 404 });
});

test('an answer scored below minScore is a miss', async () => {
  const result = await lookup(plugin, 'find-email', { fullName: 'Jane Doe', domain: 'acme.com' }, { baseUrl: api.url, apiKey: 'test-key', config: { minScore: 95 } });
  expect(result).toMatchObject({ outcome: 'no_match', reason: 'score 92 is below minScore' });
});
`,
  };
}
