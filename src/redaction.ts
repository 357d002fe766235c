// What never reaches a log line or an error message: values under secret-looking keys (any
// case, any depth: `X-Api-Key`, `x-token`, `apiKey` five objects down), and the credentials and
// query strings of URLs (`mongodb://admin:PASS@host`, `?hapikey=...`), wherever they appear in
// text. Everything is scanned forward with indexOf, so a huge log value costs linear time.

export const REDACTED = '[redacted]';

/** Key names compared lower-cased with separators removed: `X-API-Key` -> `xapikey`. */
const SECRET_NAMES = new Set([
  'apikey', 'xkey', 'xapikey', 'hapikey', 'token', 'xtoken', 'accesstoken', 'refreshtoken', 'idtoken', 'bottoken',
  'apptoken', 'authorization', 'proxyauthorization', 'password', 'passwd', 'pwd', 'secret', 'clientsecret', 'signingsecret',
  'cookie', 'setcookie', 'privatekey', 'credentials', 'auth', 'bearer', 'sessionid', 'tokenkeys',
]);
const SECRET_SUFFIXES = ['apikey', 'token', 'secret', 'password', 'privatekey'];

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function isSecretKey(key: string): boolean {
  const k = normalizeKey(key);
  return SECRET_NAMES.has(k) || SECRET_SUFFIXES.some((s) => k.endsWith(s));
}

const SCHEME_CHAR = /[A-Za-z0-9+.-]/;
const URL_END = /[\s"'<>`]/;

/** One URL without its user:password@ and with its query and fragment replaced. */
export function redactUrlText(url: string): string {
  const sep = url.indexOf('://');
  if (sep === -1) return url;
  const scheme = url.slice(0, sep + 3);
  let rest = url.slice(sep + 3);
  let tail = '';
  const cut = rest.search(/[?#]/);
  if (cut !== -1) {
    tail = rest[cut] === '?' ? `?${REDACTED}` : '';
    rest = rest.slice(0, cut);
  }
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf('@');
  const host = at === -1 ? authority : `${REDACTED}@${authority.slice(at + 1)}`;
  return scheme + host + (slash === -1 ? '' : rest.slice(slash)) + tail;
}

/** Every URL inside free text (error messages, log messages) made safe by redactUrlText. */
export function redactText(text: string): string {
  if (!text.includes('://')) return text;
  let out = '';
  let pos = 0;
  for (let sep = text.indexOf('://'); sep !== -1; sep = text.indexOf('://', sep + 3)) {
    if (sep < pos) continue;
    let start = sep;
    while (start > pos && sep - start < 32 && SCHEME_CHAR.test(text[start - 1])) start--;
    let end = sep + 3;
    while (end < text.length && !URL_END.test(text[end])) end++;
    out += text.slice(pos, start) + redactUrlText(text.slice(start, end));
    pos = end;
    sep = Math.max(sep, end - 3);
  }
  return out + text.slice(pos);
}

const MAX_DEPTH = 20;

/**
 * A copy of `value` with secrets removed: values under secret keys replaced at any depth,
 * URLs in strings cut down, errors turned into plain objects (message and stack redacted too).
 */
export function redactValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      const out: Record<string, unknown> = { type: value.name, message: redactText(value.message) };
      if (value.stack) out.stack = redactText(value.stack);
      for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : redactValue(v, depth + 1, seen);
      if (value.cause !== undefined) out.cause = redactValue(value.cause, depth + 1, seen);
      return out;
    }
    if (value instanceof URL) return redactUrlText(value.href);
    if (value instanceof Date || Buffer.isBuffer(value)) return value;
    if (value instanceof Map) return redactValue(Object.fromEntries(value), depth, seen);
    if (value instanceof Headers) return redactValue(Object.fromEntries(value.entries()), depth, seen);
    if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : redactValue(v, depth + 1, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}
