// Block Kit limits (docs: "Blocks" and "Section block"): 50 blocks per message, 3,000
// characters per section text, 2,000 per field, 10 fields per section, 2,000 per button value.
// Builders here keep every block inside them, and long results are split across messages.
import { clip } from './mrkdwn.js';

export const MAX_BLOCKS = 50;
export const MAX_SECTION_TEXT = 3000;
export const MAX_FIELD_TEXT = 2000;
export const MAX_FIELDS = 10;
export const MAX_BUTTON_VALUE = 2000;

export type Block = Record<string, unknown>;

/** A section of mrkdwn text (already escaped), clipped to the limit. */
export function section(mrkdwn: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(mrkdwn, MAX_SECTION_TEXT) } };
}

/** Sections of fields, 10 per section, each field clipped. */
export function fieldSections(fields: string[]): Block[] {
  const out: Block[] = [];
  for (let i = 0; i < fields.length; i += MAX_FIELDS) {
    out.push({ type: 'section', fields: fields.slice(i, i + MAX_FIELDS).map((f) => ({ type: 'mrkdwn', text: clip(f, MAX_FIELD_TEXT) })) });
  }
  return out;
}

/**
 * Text of any length as sections of at most 3,000 characters each, cut at a line break or a
 * space where there is one, never inside an escape like `&amp;`: long text is split, not lost.
 */
export function textSections(mrkdwn: string, max = MAX_SECTION_TEXT): Block[] {
  const out: Block[] = [];
  let rest = mrkdwn;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut < max / 2) cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) cut = max;
    const amp = rest.lastIndexOf('&', cut - 1);
    if (amp >= 0 && amp > cut - 6 && !rest.slice(amp, cut).includes(';')) cut = amp;
    out.push(section(rest.slice(0, cut)));
    rest = rest.slice(/[\n ]/.test(rest[cut] ?? '') ? cut + 1 : cut);
  }
  if (rest.trim()) out.push(section(rest));
  return out;
}

export function context(mrkdwn: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn, MAX_SECTION_TEXT) }] };
}

/** Splits blocks into messages of at most 50; a message never starts with a divider. */
export function splitMessages(blocks: Block[]): Block[][] {
  const out: Block[][] = [];
  for (let i = 0; i < blocks.length; i += MAX_BLOCKS) {
    const chunk = blocks.slice(i, i + MAX_BLOCKS);
    while (chunk.length && chunk[0].type === 'divider') chunk.shift();
    if (chunk.length) out.push(chunk);
  }
  return out;
}
