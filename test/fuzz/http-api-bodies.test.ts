// Fuzz of the HTTP API's request-body validators (plugins/triggers/http-api/request-schemas.ts),
// called directly: what POST /v1/enrich and /v1/enrich/batch do with a parsed JSON body before
// anything is queued. Bodies are built as JSON text and parsed, as express.json does, so they
// hold only JSON values, duplicate keys and own "__proto__" keys included.
import fc from 'fast-check';
import { EnrichBodySchema, batchBodySchema, checkBatchItems, toStructuredInput } from '../../plugins/triggers/http-api/request-schemas.js';
import { fieldErrors, validationProblem, type FieldError } from '../../plugins/triggers/http-api/problem.js';
import { identityOfInput, type StructuredInput } from '../../src/engine/identity.js';
import { EnrichRequestSchema } from '../../src/engine/types.js';
import { ErrorCodes, isEnrichbotError } from '../../src/errors.js';
import { SEED, anyText, unexplained } from './fuzz-support.js';

const IDENTIFIER_KEYS = ['email', 'domain', 'company_name', 'linkedin_url', 'name'];
const BODY_KEYS = [...IDENTIFIER_KEYS, 'enrich', 'refresh', 'maxCostUsd', 'callbackUrl'];
const BATCH_KEYS = ['items', 'enrich', 'refresh', 'label', 'callbackUrl', 'dryRun', 'maxCostUsd'];

const goodValue: Record<string, fc.Arbitrary<unknown>> = {
  email: fc.constantFrom('jane@acme.com', 'Bob+crm@Example.co.uk', ' jane@acme.com '),
  domain: fc.constantFrom('acme.com', 'https://www.acme.io/about', 'ACME.co.uk'),
  company_name: fc.constantFrom('Acme Corp', 'Ünïcödé GmbH'),
  linkedin_url: fc.constantFrom('linkedin.com/in/janedoe', 'https://www.linkedin.com/company/acme'),
  name: fc.constantFrom('Jane Doe', 'Jean  Claude Van Damme'),
  enrich: fc.constantFrom(['title'], ['person.title', 'company_industry']),
  refresh: fc.boolean(),
  maxCostUsd: fc.constantFrom(0, 0.5, 10),
  callbackUrl: fc.constantFrom('https://crm.example.com/hook'),
  label: fc.constantFrom('March leads'),
  dryRun: fc.boolean(),
};

const hostileString = fc.oneof(
  anyText,
  fc.constantFrom('', ' ', 'x', '@', 'a@', '@b.com', 'jane@gmail', '127.0.0.1', 'localhost', 'com', 'linkedin.com/', 'javascript:alert(1)', 'ftp://x.com', 'title', 'person.nope', '__proto__', 'Jane', 'Jane Doe'),
  fc.tuple(fc.constantFrom('a', 'é', 'x.', '@', ' '), fc.integer({ min: 200, max: 3_000 })).map(([s, n]) => s.repeat(n)),
);
/** Any JSON value, biased to the shapes validators trip on: strings, huge and negative numbers, nesting. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1e308, -0.0001, 2 ** 53 + 1, 1.5) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 4 }) },
);

/** A JSON object's text from key/value pairs (duplicates and "__proto__" stay, as in a real body). */
function objectText(pairs: [string, unknown][]): string {
  return `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;
}

function objectOf(keys: string[]): fc.Arbitrary<unknown> {
  const key = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.constantFrom('emial', '__proto__', 'constructor', 'Email', '') }, { weight: 1, arbitrary: anyText });
  const pair = key.chain((k) => fc.tuple(fc.constant(k), Object.hasOwn(goodValue, k) ? fc.oneof(goodValue[k], anyJson) : anyJson));
  return fc.array(pair, { maxLength: 6 }).map((pairs) => JSON.parse(objectText(pairs)) as unknown);
}

/** A body: mostly objects of the right keys, sometimes not an object at all. */
const enrichBody = fc.oneof({ weight: 9, arbitrary: objectOf(BODY_KEYS) }, { weight: 1, arbitrary: anyJson });

/** Why these field errors do not explain a refusal, or undefined. */
function errorsProblem(errors: FieldError[], prefix = ''): string | undefined {
  if (errors.length === 0) return 'refused with no error';
  for (const e of errors) {
    if (!e.path.startsWith(prefix)) return `error path "${e.path}" outside "${prefix}"`;
    const why = unexplained(e.message);
    if (why) return `${e.path || '(body)'}: ${why}`;
  }
  const detail = validationProblem(errors).message;
  return unexplained(detail) && `detail: ${unexplained(detail)}`;
}

/**
 * What an accepted input does next in the service: the request schema, then the identity. Either
 * passes or refuses with our coded error and a message that says what to do.
 */
function serviceProblem(input: StructuredInput): string | undefined {
  const request = EnrichRequestSchema.safeParse({ workspace: 'w1', input });
  if (!request.success) return `accepted by the API but refused by the service's schema: ${JSON.stringify(request.error.issues)}`;
  try {
    identityOfInput(input);
  } catch (err) {
    if (!isEnrichbotError(err, ErrorCodes.INPUT_INVALID)) return `identityOfInput threw ${String(err)}`;
    const why = unexplained(err.message);
    if (why) return `identity refused: ${why}`;
  }
  return undefined;
}

test('fuzz (10,000 cases): POST /v1/enrich bodies are accepted or refused with each field named and what to send; none throws', () => {
  fc.assert(
    fc.property(enrichBody, (body) => {
      const parsed = EnrichBodySchema.safeParse(body);
      const problem = parsed.success ? serviceProblem(toStructuredInput(parsed.data)) : errorsProblem(fieldErrors(parsed.error));
      if (problem) throw new Error(problem);
    }),
    { seed: SEED, numRuns: 10_000 },
  );
});

/** A batch item: a known-good one (which must run) or anything at all. */
const item = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom({ email: 'jane@acme.com' }, { domain: 'acme.com' }, { name: 'Jane Doe', domain: 'acme.com' }, { linkedin_url: 'linkedin.com/in/janedoe' }, { company_name: 'Acme Corp' }).map((v) => ({ good: true, value: v as unknown })) },
  { weight: 2, arbitrary: fc.oneof(objectOf(IDENTIFIER_KEYS), anyJson).map((v) => ({ good: false, value: v })) },
);
const batchOf = (items: fc.Arbitrary<{ good: boolean; value: unknown }[]>) =>
  fc.tuple(items, objectOf(BATCH_KEYS.filter((k) => k !== 'items'))).map(([list, rest]) => ({ list, body: rest && typeof rest === 'object' && !Array.isArray(rest) ? { ...(rest as object), items: list.map((i) => i.value) } : rest }));

test('fuzz (10,000 cases): POST /v1/enrich/batch: a bad item is refused alone with its index and reason, every good item still runs; none throws', () => {
  // Small batches (validation costs 10-40 µs an item): 10,000 of them still mix good and bad items, and pass the limit.
  const MAX_ITEMS = 8;
  fc.assert(
    fc.property(batchOf(fc.array(item, { maxLength: 10 })), ({ list, body }) => {
      const parsed = batchBodySchema(MAX_ITEMS).safeParse(body);
      if (!parsed.success) {
        const problem = errorsProblem(fieldErrors(parsed.error));
        if (problem) throw new Error(problem);
        return;
      }
      const { items, itemErrors } = checkBatchItems(parsed.data.items);
      if (items.length !== list.length) throw new Error(`${list.length} items in, ${items.length} out`);
      items.forEach((it, index) => {
        const errors = itemErrors.get(index);
        if (list[index].good && errors) throw new Error(`good item ${index} refused: ${JSON.stringify(errors)}`);
        const problem = errors ? errorsProblem(errors, `items/${index}`) ?? (it.problem ? undefined : 'refused item without a problem') : serviceProblem(it.input as StructuredInput);
        if (problem) throw new Error(`item ${index}: ${problem}`);
      });
    }),
    { seed: SEED, numRuns: 10_000 },
  );
});
