// Fuzz of the HubSpot webhook body (plugins/triggers/hubspot/webhook.ts, readWebhookBody), after
// the signature check: any bytes HubSpot (or whoever holds the secret) may send. HubSpot posts a
// JSON array of at most 100 events; one malformed event must not cost the others.
import fc from 'fast-check';
import { MAX_EVENTS_PER_REQUEST, readWebhookBody } from '../../plugins/triggers/hubspot/webhook.js';
import { SEED, anyText, unexplained } from './fuzz-support.js';

/** An event as HubSpot documents it (developers.hubspot.com, webhooks API: "Example payload"). */
const goodEvent = fc.record({
  eventId: fc.nat({ max: 2 ** 40 }),
  subscriptionId: fc.nat(),
  portalId: fc.constantFrom(62515, '62515', 7),
  appId: fc.nat(),
  occurredAt: fc.integer({ min: 1, max: 2 ** 45 }),
  subscriptionType: fc.constantFrom('contact.creation', 'contact.propertyChange', 'company.creation', 'contact.merge', 'contact.deletion'),
  attemptNumber: fc.nat({ max: 10 }),
  objectId: fc.oneof(fc.nat(), fc.nat().map(String)),
  changeSource: fc.constantFrom('CRM', 'IMPORT', 'API'),
  propertyName: fc.constantFrom('email', 'company', 'website'),
  propertyValue: fc.oneof(fc.constantFrom('jane@acme.com', ''), anyText),
});

const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  anyText,
  fc.constantFrom(null, true, -1, 1.5, 2 ** 64, -0, '', '007', '-1', '1e3', ' 1', '0x10', 'contact', 'Contact.Creation', 'a.b.c', '__proto__'),
  fc.jsonValue({ maxDepth: 2 }),
);
const FIELDS = ['eventId', 'subscriptionId', 'portalId', 'appId', 'occurredAt', 'subscriptionType', 'attemptNumber', 'objectId', 'propertyName', 'propertyValue', 'primaryObjectId', 'mergedObjectIds', 'newObjectId'];

/** A good event with one to three fields replaced, removed or added: usually malformed. */
const brokenEvent = fc
  .tuple(goodEvent, fc.array(fc.tuple(fc.constantFrom(...FIELDS, '__proto__', 'extra'), fc.option(hostileJson, { nil: undefined })), { minLength: 1, maxLength: 3 }))
  .map(([e, edits]) => {
    const out: Record<string, unknown> = { ...e };
    for (const [k, v] of edits) {
      if (v === undefined) delete out[k];
      else Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  });

type Entry = { good: boolean; value: unknown };
const entry: fc.Arbitrary<Entry> = fc.oneof(
  { weight: 3, arbitrary: goodEvent.map((value) => ({ good: true, value })) },
  { weight: 3, arbitrary: brokenEvent.map((value) => ({ good: false, value })) },
  { weight: 1, arbitrary: hostileJson.map((value) => ({ good: false, value })) },
);
/** About the 100-event limit: one event repeated, with a few others in among the copies. */
const nearLimit = fc.tuple(entry, fc.integer({ min: 98, max: 102 }), fc.array(fc.tuple(fc.nat(), entry), { maxLength: 4 })).map(([fill, n, others]) => {
  const list = Array.from({ length: n }, () => fill);
  for (const [at, e] of others) list[at % n] = e;
  return list;
});
/** Mostly a few events; now and then about the limit. */
const entries = fc.oneof({ weight: 19, arbitrary: fc.array(entry, { maxLength: 8 }) }, { weight: 1, arbitrary: nearLimit });

/** The bytes sent: the events as JSON, or something that is not an array of them. */
const body = fc.oneof(
  { weight: 8, arbitrary: entries.map((list) => ({ list, bytes: Buffer.from(JSON.stringify(list.map((e) => e.value))) })) },
  { weight: 1, arbitrary: hostileJson.map((v) => ({ list: undefined, bytes: Buffer.from(JSON.stringify(v) ?? '') })) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.constantFrom('', '[', '[{]', '\ufeff[]', '[1,]', 'null', '{"0":1}', '[{"eventId":1}'.repeat(50)).map((s) => Buffer.from(s)),
      anyText.map((s) => Buffer.from(s, 'latin1')),
    ).map((bytes) => ({ list: undefined, bytes })),
  },
);

test('fuzz (10,000 cases): any signed body is read without throwing; a refused body or event says what was wrong and what to send, and the valid events of a body still go through', () => {
  fc.assert(
    fc.property(body, ({ list, bytes }) => {
      const read = readWebhookBody(bytes);
      if (!read.ok) {
        const why = unexplained(read.error);
        if (why) throw new Error(`body refused: ${why}`);
        if (list && list.length <= MAX_EVENTS_PER_REQUEST) throw new Error(`an array of ${list.length} events refused whole: ${read.error}`);
        return;
      }
      if (!list) return; // valid JSON by chance (e.g. "[]")
      if (read.good.length + read.rejected.length !== list.length) throw new Error(`${list.length} events in, ${read.good.length} read and ${read.rejected.length} refused`);
      const refused = new Set(read.rejected.map((r) => r.index));
      list.forEach((e, index) => {
        if (e.good && refused.has(index)) throw new Error(`valid event ${index} refused: ${JSON.stringify(read.rejected.find((r) => r.index === index))}`);
      });
      for (const r of read.rejected) {
        for (const part of r.problem.split('; ')) {
          const why = unexplained(part);
          if (why) throw new Error(`event ${r.index} refused: ${why}`);
        }
      }
      // What is stored is keyed by these: each an id of digits, whatever form it came in.
      for (const e of read.good) {
        if (![e.eventId, e.portalId, e.objectId].every((id) => /^\d+$/.test(id))) throw new Error(`ids not digits: ${JSON.stringify(e)}`);
      }
    }),
    { seed: SEED, numRuns: 10_000 },
  );
});
