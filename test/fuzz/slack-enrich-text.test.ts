// Fuzz of what `/enrich <text>` does with its text, without Slack in the way: the command parser
// (command-text.ts) and then, per input, the free-text identity parser the service applies
// (parseIdentity). Slack sends any Unicode, its own <link|label> wrappers, and up to 4,000
// characters (the command text limit); none of it may crash the command or be lost silently.
import fc from 'fast-check';
import { parseCommand, splitInputs } from '../../plugins/triggers/slack/command-text.js';
import { parseIdentity } from '../../src/engine/identity.js';
import { ErrorCodes, isEnrichbotError } from '../../src/errors.js';
import { SEED, anyText, unexplained } from './fuzz-support.js';

/** The plugin's default (triggers.slack.maxInputs); small ones make "too many" common. */
const maxInputs = fc.constantFrom(1, 3, 25);

/** Inputs that must be enriched wherever they stand. No separators inside (" @ " keeps its spaces). */
const validInput = fc.constantFrom(
  'jane@acme.com',
  'Bob.Smith+crm@Example.co.uk',
  'acme.com',
  'https://www.acme.io/about',
  'linkedin.com/in/janedoe',
  'https://www.linkedin.com/company/acme',
  'Jane Doe @ acme.com',
  'Ünïcödé',
  'Acme',
);

/** Slack's wrappers and the things people paste. */
const slackish = fc.constantFrom(
  '<mailto:jane@acme.com|jane@acme.com>',
  '<http://acme.com|acme.com>',
  '<https://linkedin.com/in/x>',
  '<mailto:|>',
  '<mailto:a@b.com|>',
  '<|x>',
  '<>',
  '<@U123>',
  '<#C123|general>',
  '<!here>',
  '&lt;b&gt;',
  '@',
  ' @ ',
  'x @',
  '@ y',
  'gmail.com',
  'x@gmail.com',
  '192.168.0.1',
  'localhost',
  'com',
  'javascript:alert(1)',
  'linkedin.com/',
  'linkedin.com/in/',
  'linkedin.com/in/%E0%A4%A',
  'http://',
  '__proto__',
  'constructor',
  'help',
  'usage',
  'refresh',
  'lookalikes',
  'REFRESH',
  'Help',
);
const huge = fc.tuple(fc.constantFrom('a', 'é', 'x.', '@', '<', ' @ '), fc.integer({ min: 100, max: 1_500 })).map(([s, n]) => s.repeat(n));
const token = fc.oneof({ weight: 3, arbitrary: validInput }, { weight: 3, arbitrary: slackish }, { weight: 3, arbitrary: anyText }, { weight: 1, arbitrary: huge });
const separator = fc.constantFrom(' ', ',', ', ', '\n', '\r\n', '\t', '  ', ',,', ' ,\n', '\u00a0', '\u3000', '\u2028');
/** A command text: tokens joined by any separators, cut at Slack's 4,000 characters. */
const commandText = fc.array(fc.tuple(token, separator), { maxLength: 30 }).map((parts) => parts.map(([t, s]) => t + s).join('').slice(0, 4000));

const KINDS = new Set(['help', 'usage', 'lookalikes', 'refresh', 'enrich', 'too_many', 'missing']);

/** What is wrong with one parsed command, or undefined (plain checks: expect per case would dominate). */
function commandProblem(text: string, max: number): string | undefined {
  const c = parseCommand(text, max);
  if (!KINDS.has(c.kind)) return `unknown kind ${c.kind}`;
  if (c.kind === 'too_many' && !(c.count > max)) return `too_many with ${c.count} inputs (max ${max})`;
  if (c.kind === 'missing' && c.what.trim() === '') return 'missing without saying what';
  const inputs = c.kind === 'enrich' || c.kind === 'refresh' ? c.inputs : c.kind === 'lookalikes' ? [c.input] : [];
  if ((c.kind === 'enrich' || c.kind === 'refresh') && (inputs.length < 1 || inputs.length > max)) return `${c.kind} with ${inputs.length} inputs (max ${max})`;
  for (const input of inputs) {
    if (input.trim() === '') return `an empty input in ${JSON.stringify(c)}`;
    // Each input is enriched or refused with a reason; only our coded error may be thrown.
    try {
      parseIdentity(input);
    } catch (err) {
      if (!isEnrichbotError(err, ErrorCodes.INPUT_INVALID)) return `parseIdentity(${JSON.stringify(input)}) threw ${String(err)}`;
      const why = unexplained(err.message);
      if (why) return `input ${JSON.stringify(input)} refused: ${why}`;
    }
  }
  return undefined;
}

test('fuzz (10,000 cases): any /enrich text parses to a command without throwing; every input it yields is enriched or refused with what to give instead', () => {
  fc.assert(
    fc.property(commandText, maxInputs, (text, max) => {
      const problem = commandProblem(text, max);
      if (problem) throw new Error(problem);
    }),
    { seed: SEED, numRuns: 10_000 },
  );
});

test('fuzz (10,000 cases): valid inputs between hostile ones (comma or new line apart) are each kept and enriched; the hostile ones do not swallow them', () => {
  const piece = fc.oneof(validInput.map((v) => ({ valid: true, text: v })), fc.oneof(slackish, anyText, huge).map((t) => ({ valid: false, text: t })));
  fc.assert(
    fc.property(fc.array(piece, { minLength: 1, maxLength: 25 }), fc.constantFrom(',', '\n', ', ', ' ,\n'), (pieces, sep) => {
      const text = `refresh ${pieces.map((p) => p.text).join(sep)}`;
      const c = parseCommand(text, 10_000);
      const valid = pieces.filter((q) => q.valid);
      // Without a valid piece, the hostile ones may amount to nothing: then it asks for an input.
      if (!valid.length && c.kind === 'missing') return;
      // Everything after the subcommand word is input, whatever the hostile pieces hold.
      if (c.kind !== 'refresh') throw new Error(`"refresh …" parsed as ${c.kind}`);
      const got = new Set(c.inputs);
      for (const p of valid) {
        if (!got.has(p.text)) throw new Error(`valid input ${JSON.stringify(p.text)} lost: got ${JSON.stringify(c.inputs.slice(0, 30))}`);
        parseIdentity(p.text); // throws (and fails the property) if a valid input is refused
      }
    }),
    { seed: SEED, numRuns: 10_000 },
  );
});

test('a text of only separators asks for an input instead of "Enriching 0 inputs"', () => {
  for (const text of [',', ' , ,\n', '\u00a0,', 'refresh ,,', 'lookalikes ,']) {
    const c = parseCommand(text, 25);
    expect(c.kind === 'help' || c.kind === 'missing').toBe(true);
  }
});

test('a Slack link with an empty label is read as its target, not as an empty input', () => {
  expect(splitInputs('<mailto:jane@acme.com|> <http://acme.com|>')).toEqual(['jane@acme.com', 'http://acme.com']);
});
