// Company names compared the way people write them: "Apple Inc.", "APPLE INC" and "apple"
// are one name. Only legal-form words are dropped, never words that tell companies apart.

const LEGAL_FORMS = new Set([
  'inc', 'incorporated', 'corp', 'corporation', 'co', 'company', 'ltd', 'limited', 'plc', 'llc', 'lp', 'llp',
  'sa', 'ag', 'nv', 'se', 'spa', 'ab', 'asa', 'oyj', 'gmbh', 'bv', 'pte', 'pty',
]);

/** "ELI LILLY & Co" -> "eli lilly"; "CATERPILLAR INC /DE/" -> "caterpillar"; "The Walt Disney Company" -> "walt disney". */
export function normalizeCompanyName(raw: string): string {
  const words = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\/[a-z]{2,3}\/?/g, ' ') // EDGAR's state-of-incorporation tags such as /DE/
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter(Boolean);
  while (words.length > 1 && (LEGAL_FORMS.has(words[words.length - 1]) || words[words.length - 1] === 'and')) words.pop();
  if (words.length > 1 && words[0] === 'the') words.shift();
  return words.join(' ');
}

/** The name without spaces, to compare with a domain label: "Meta Platforms" -> "metaplatforms". */
export function compactCompanyName(raw: string): string {
  return normalizeCompanyName(raw).replace(/ /g, '');
}
