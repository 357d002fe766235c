// An out-of-tree enrichbot provider, published as its own npm package: a work email from a name
// at a company domain, from the made-up Example Finder API (GET /v1/find?name=&domain=, Bearer
// key; 404 = nobody found; `score` 0-100). It imports only `enrichbot/sdk`, the plugin SDK, and
// takes zod from there too, so its config schema is the same zod enrichbot validates with.
import { defineProvider, workEmail, z } from 'enrichbot/sdk';

const FindResponse = z.object({
  email: z.string().nullable(),
  score: z.number().min(0).max(100).optional(),
});

export default defineProvider({
  kind: 'provider',
  id: 'example-finder',
  description: 'Example Finder: work email from a full name at a company domain (an out-of-tree example).',
  configSchema: z.object({
    /** Answers scored below this (0-100) are treated as a miss. */
    minScore: z.number().min(0).max(100).default(50),
  }),
  requiresApiKey: true,
  defaults: {
    baseUrl: 'https://api.example-finder.invalid',
    costs: { 'find-email': { usd: 0.01, missCharged: false } },
    ratePerSecond: 5,
  },
  operations: [
    {
      name: 'find-email',
      needs: [['fullName', 'domain'], ['firstName', 'lastName', 'domain']],
      returns: ['person.workEmail'],
      async lookup(input, ctx) {
        const name = input.fullName ?? `${input.firstName} ${input.lastName}`;
        const res = await ctx.http.request({
          path: '/v1/find',
          query: { name, domain: input.domain },
          headers: { authorization: `Bearer ${ctx.settings.apiKey ?? ''}` },
          schema: FindResponse,
        });
        if (res.kind === 'no_match') return { outcome: 'no_match', reason: `Example Finder answered HTTP ${res.status}`, raw: res.raw, httpStatus: res.status };
        const email = workEmail(res.body.email);
        const score = res.body.score ?? 50;
        if (!email || score < ctx.config.minScore) {
          return { outcome: 'no_match', reason: email ? `score ${score} is below minScore` : 'no usable address', raw: res.raw, httpStatus: res.status };
        }
        return { outcome: 'matched', fields: { 'person.workEmail': email }, confidence: score / 100, raw: res.raw, httpStatus: res.status };
      },
    },
  ],
});
