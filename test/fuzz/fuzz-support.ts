// Shared by the fuzz tests: the seed (fixed, so a failure replays; FUZZ_SEED picks another), the
// hostile strings every parser gets, and what makes a refusal "explained".
import fc from 'fast-check';

/**
 * fast-check prints the seed and the shrunk counterexample's path when a property fails; to
 * replay it, run with FUZZ_SEED=<seed> (and pass `path` to fc.assert while debugging).
 */
export const SEED = Number(process.env.FUZZ_SEED ?? 20261212);

/** Characters that have broken parsers: controls, NUL, invisible and bidi marks, odd spaces, a lone surrogate. */
export const oddChar = fc.constantFrom('\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u00a0', '\u200b', '\u200e', '\u202e', '\u2028', '\u2029', '\u3000', '\ufeff', '\ufffd', '\ud800', '\udc00', '🙂', 'é', 'ｅ', 'ß', 'İ', '\\', '"', "'", '`', '$', '{', '}', '%', '%00', '&', '<', '>', '|');

/**
 * A code point: mostly printable ASCII, else any of the 1.1 million (lone surrogates included).
 * Not fc.string({ unit: 'binary' }): building that one maps every code point (2 s per test file).
 */
const codePoint = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }) }).map((cp) => String.fromCodePoint(cp));

/** Any string: code points of every plane, or short runs of odd characters. */
export const anyText = fc.oneof(
  fc.array(codePoint, { maxLength: 40 }).map((a) => a.join('')),
  fc.array(oddChar, { maxLength: 8 }).map((a) => a.join('')),
);

/** Words an instruction uses: a refusal must say what to do, not only that something is wrong. */
const WHAT_TO_DO = /\b(give|use|send|add|remove|split|shorten|try|expected|expects|choose|set|name|write)\b/i;
/** Validators' bare defaults, which say neither what nor how. */
const GENERIC = /^(invalid|invalid input|invalid value|invalid option|required|error|bad request)\.?$/i;

/** Why `message` does not explain a refusal, or undefined when it does. */
export function unexplained(message: unknown): string | undefined {
  if (typeof message !== 'string' || message.trim() === '') return 'empty message';
  if (GENERIC.test(message.trim())) return `generic message "${message}"`;
  if (!WHAT_TO_DO.test(message)) return `says nothing about what to do: "${message}"`;
  return undefined;
}
