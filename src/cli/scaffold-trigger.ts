// The files `enrichbot new trigger <id>` writes: a webhook trigger (POST /<id>/enrich with a
// shared token queues an enrichment; the finished record is POSTed to a callback URL), its README,
// a fixture server standing in for the callback receiver, and a test that passes as generated.
export interface TriggerScaffoldPaths {
  /** Import path of the plugin SDK from the plugin folder (src/sdk/index.js). */
  sdk: string;
  /** Import path of test/support/test-app.js from the plugin's test folder. */
  testApp: string;
}

const envName = (id: string) => id.toUpperCase().replace(/[^A-Z0-9]+/g, '_');

export function triggerFiles(id: string, paths: TriggerScaffoldPaths): Record<string, string> {
  const env = envName(id);
  return {
    'index.ts': `// ${id}: a webhook trigger. POST /${id}/enrich {"input": "jane@acme.com"} with the header
// x-${id}-token queues an enrichment and answers 202 {jobId}; when the job finishes, its record
// is POSTed as JSON to callbackUrl. Replace with the real system's wire format and signature check.
import { timingSafeEqual } from 'node:crypto';
import express from 'express';
import { defineTrigger, ErrorCodes, isEnrichbotError, z, type JobResult } from '${paths.sdk}';

const Body = z.object({
  input: z.string().min(1).max(500),
  workspace: z.string().min(1).max(100).default('default'),
});

const sameToken = (given: string | undefined, expected: string) =>
  !!given && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));

export default defineTrigger({
  kind: 'trigger',
  id: '${id}',
  description: '${id}: POST /${id}/enrich queues an enrichment; the result is POSTed to callbackUrl.',
  configSchema: z.object({
    /** Shared secret the caller sends in x-${id}-token (at least 16 characters). */
    token: z.string().min(16),
    /** Where finished records are POSTed. */
    callbackUrl: z.url(),
  }),
  start(ctx) {
    ctx.router.post('/enrich', express.json({ limit: '16kb' }), async (req, res) => {
      if (!sameToken(req.get('x-${id}-token'), ctx.config.token)) {
        res.status(401).json({ error: 'missing or wrong x-${id}-token header' });
        return;
      }
      const body = Body.safeParse(req.body);
      if (!body.success) {
        res.status(400).json({ error: 'expected {"input": "<email, domain, LinkedIn URL or name @ company>"}', issues: body.error.issues.map((i) => i.message) });
        return;
      }
      try {
        const job = await ctx.service.submit({ workspace: body.data.workspace, input: body.data.input, actor: '${id}' }, { trigger: '${id}', address: {} });
        res.status(202).json({ jobId: job.jobId });
      } catch (err) {
        if (isEnrichbotError(err, ErrorCodes.INPUT_INVALID)) res.status(400).json({ error: (err as Error).message });
        else {
          ctx.logger.error({ err }, '${id}: submit failed');
          res.status(500).json({ error: 'internal error' });
        }
      }
    });
  },
  async deliver(result: JobResult, _replyTo, ctx) {
    const res = await fetch(ctx.config.callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobId: result.jobId, status: result.status, input: result.display, person: result.person?.fields, company: result.company?.fields }),
    });
    if (!res.ok) throw new Error(\`${id}: callbackUrl answered HTTP \${res.status}\`);
  },
});
`,
    'README.md': `# ${id}

A trigger plugin: \`POST /${id}/enrich\` with \`{"input": "jane@acme.com"}\` and the header
\`x-${id}-token\` queues an enrichment and answers \`202 {"jobId": "..."}\`; the finished record is
POSTed as JSON to \`callbackUrl\`.

## Enable it

\`\`\`yaml
plugins:
  triggers: [..., ${id}]
triggers:
  ${id}:
    callbackUrl: https://example.com/enrichbot-results
\`\`\`

Set \`${env}_TOKEN\` (at least 16 characters), or \`triggers.${id}.token\` in your config file.

## Tests

\`test/fixture-server.ts\` stands in for the callback receiver; \`test/${id}.test.ts\` starts the
real app with this trigger and checks the webhook, its refusals and the delivery.
`,
    'test/fixture-server.ts': `// A local stand-in for the system that receives ${id}'s results: it keeps every POST and
// resolves \`next()\` when one arrives.
import http from 'node:http';

export interface FixtureServer {
  url: string;
  received: unknown[];
  next(): Promise<unknown>;
  close(): Promise<void>;
}

export async function startFixtureServer(): Promise<FixtureServer> {
  const received: unknown[] = [];
  const waiting: ((body: unknown) => void)[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => {
      const body = JSON.parse(data || 'null');
      received.push(body);
      waiting.shift()?.(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: \`http://127.0.0.1:\${port}/results\`,
    received,
    next: () => (received.length ? Promise.resolve(received.at(-1)) : new Promise((resolve) => waiting.push(resolve))),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
`,
    [`test/${id}.test.ts`]: `// ${id} in the real app (real queue, database and HTTP server), with the callback receiver faked.
import plugin from '../index.js';
import { dropTestData, startTestApp } from '${paths.testApp}';
import { startFixtureServer, type FixtureServer } from './fixture-server.js';

const TOKEN = 'test-token-0123456789';
let receiver: FixtureServer;
let app: Awaited<ReturnType<typeof startTestApp>>;

beforeAll(async () => {
  receiver = await startFixtureServer();
  app = await startTestApp({
    file: '${id}',
    plugins: { '${id}': plugin },
    overrides: { plugins: { providers: [], triggers: ['${id}'] }, triggers: { '${id}': { token: TOKEN, callbackUrl: receiver.url } } },
  });
});
afterAll(async () => {
  await app.stop();
  await dropTestData(app.names);
  await receiver.close();
});

const post = (body: unknown, token = TOKEN) =>
  fetch(\`http://127.0.0.1:\${app.port}/${id}/enrich\`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-${id}-token': token }, body: JSON.stringify(body) });

test('a webhook with the token queues a job and its result is delivered to callbackUrl', async () => {
  const res = await post({ input: 'jane@acme.com', workspace: 'T-${id}' });
  expect(res.status).toBe(202);
  const { jobId } = (await res.json()) as { jobId: string };
  expect(await receiver.next()).toMatchObject({ jobId, input: 'jane@acme.com' });
});

test('a wrong token is refused with 401 and a bad body with 400, and nothing is queued for them', async () => {
  expect((await post({ input: 'jane@acme.com' }, 'wrong-token-0123456789')).status).toBe(401);
  expect((await post({ nope: true })).status).toBe(400);
  expect((await post({ input: '127.0.0.1' })).status).toBe(400);
});
`,
  };
}
