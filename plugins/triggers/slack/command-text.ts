// What `/enrich <text>` asks for: a subcommand, or up to 25 inputs separated by spaces, commas
// or new lines. "First Last @ acme.com" stays one input: a piece with " @ " is never split on spaces.
export type EnrichCommand =
  | { kind: 'help' }
  | { kind: 'usage' }
  | { kind: 'lookalikes'; input: string }
  | { kind: 'refresh'; inputs: string[] }
  | { kind: 'enrich'; inputs: string[] }
  | { kind: 'too_many'; count: number }
  | { kind: 'missing'; what: string };

export function splitInputs(text: string): string[] {
  const out: string[] = [];
  for (const piece of text.split(/[\n,]+/)) {
    const p = piece.trim();
    if (!p) continue;
    if (/\s@\s/.test(p)) out.push(p.replace(/\s+/g, ' '));
    else out.push(...p.split(/\s+/).filter(Boolean));
  }
  // Slack wraps what it recognises as a link or an email: <mailto:a@b.com|a@b.com>, <http://acme.com|acme.com>.
  // An empty wrapper (`<mailto:|>`, found by fuzzing) is no input at all, not an empty one.
  return out.map(unwrapSlackLink).filter(Boolean);
}

/** The label, else the target (an empty label is no label). */
function unwrapSlackLink(s: string): string {
  const m = /^<(?:mailto:)?([^|>]*)(?:\|([^>]*))?>$/.exec(s);
  return m ? (m[2]?.trim() || m[1].trim()) : s;
}

export function parseCommand(text: string, maxInputs: number): EnrichCommand {
  const t = text.trim();
  const [first = '', ...rest] = t.split(/\s+/);
  const tail = t.slice(first.length).trim();
  switch (first.toLowerCase()) {
    case '':
    case 'help':
      return { kind: 'help' };
    case 'usage':
      return { kind: 'usage' };
    case 'lookalikes': {
      const inputs = splitInputs(tail);
      return inputs.length === 1 ? { kind: 'lookalikes', input: inputs[0] } : { kind: 'missing', what: 'one company domain: `/enrich lookalikes acme.com`' };
    }
    case 'refresh': {
      const inputs = splitInputs(tail);
      if (!inputs.length) return { kind: 'missing', what: 'what to refresh: `/enrich refresh jane@acme.com`' };
      return inputs.length > maxInputs ? { kind: 'too_many', count: inputs.length } : { kind: 'refresh', inputs };
    }
  }
  void rest;
  const inputs = splitInputs(t);
  // Only separators (`/enrich ,`): ask, rather than answer "Enriching 0 inputs" and do nothing.
  if (!inputs.length) return { kind: 'missing', what: 'something to enrich: an email, a domain, a LinkedIn URL or "First Last @ company" (`/enrich help` lists them)' };
  return inputs.length > maxInputs ? { kind: 'too_many', count: inputs.length } : { kind: 'enrich', inputs };
}

export const HELP_TEXT = [
  '*/enrich* finds people and companies, field by field, and says where each value came from.',
  '• `/enrich jane@acme.com` · `/enrich acme.com` · `/enrich linkedin.com/in/janedoe` · `/enrich Jane Doe @ acme.com`',
  '• Several at once (up to 25), separated by spaces, commas or new lines.',
  '• `/enrich refresh jane@acme.com`: ask the providers again even if the record is recent.',
  '• `/enrich lookalikes acme.com`: 5-10 similar companies, each marked verified or unverified.',
  "• `/enrich usage`: today's spend by provider against the daily caps.",
  '• Send me a CSV in a direct message to enrich every row; I answer with the enriched CSV.',
].join('\n');
