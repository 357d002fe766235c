// Slack mrkdwn treats &, < and > as control characters (<@U123>, <!channel>, <http://x|y>): a
// provider's error text or a workspace name must never be able to ping a channel or forge a link.
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Shortens provider-supplied text to one line of at most `max` characters. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
