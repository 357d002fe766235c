// Slack mrkdwn escaping. Slack's docs ("Formatting text for app surfaces") name exactly three
// control characters: & < >. Escaping them turns `<!channel>` and `<https://evil|click>` into
// plain text, so a provider- or user-supplied string can neither ping anyone nor forge a link.
export function escapeMrkdwn(text: unknown): string {
  return String(text ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** Cuts text to `max` characters (Block Kit limits), marking the cut; never inside an escape. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  // An escape like `&amp;` cut in half would show as raw `&am`: drop the partial entity.
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && amp > cut.length - 5 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}…`;
}
