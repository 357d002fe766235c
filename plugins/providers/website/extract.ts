// Company facts from a homepage's HTML: name, description, social profiles and the contact
// emails it shows. No script is run, and no pattern that can backtrack touches the page: a
// hostile page (a megabyte of letters with no "@", thousands of unclosed "<a", "&#x110000;")
// once took quadratic time or threw. Everything here scans forward with indexOf over a bounded
// prefix, so the work is linear in MAX_PARSE_CHARS; a bad entity or escape is skipped, not fatal.

/** Only this much of a page is read (the fetch is capped near it too). */
export const MAX_PARSE_CHARS = 1_000_000;
/** Title and meta tags are looked for in the head of the page only. */
const HEAD_CHARS = 200_000;
const MAX_HREF = 2048;
const MAX_LOCAL_PART = 64;
const MAX_DOMAIN = 253;

const SOCIAL: { key: string; re: RegExp }[] = [
  { key: 'linkedin', re: /^https?:\/\/([a-z]{2,3}\.)?(www\.)?linkedin\.com\/(company|school)\/[^/?#\s"']+/i },
  { key: 'x', re: /^https?:\/\/(www\.)?(twitter|x)\.com\/(?!intent|share|home)[A-Za-z0-9_]{1,15}\/?$/i },
  { key: 'github', re: /^https?:\/\/(www\.)?github\.com\/[A-Za-z0-9-]+\/?$/i },
  { key: 'facebook', re: /^https?:\/\/(www\.)?facebook\.com\/(?!sharer)[^/?#\s"']+\/?$/i },
  { key: 'instagram', re: /^https?:\/\/(www\.)?instagram\.com\/[^/?#\s"']+\/?$/i },
  { key: 'youtube', re: /^https?:\/\/(www\.)?youtube\.com\/(c\/|channel\/|user\/|@)[^/?#\s"']+\/?$/i },
  { key: 'crunchbase', re: /^https?:\/\/(www\.)?crunchbase\.com\/organization\/[^/?#\s"']+\/?$/i },
];

const ENTITIES = new Map(Object.entries({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }));

function codePoint(cp: number): string | undefined {
  if (!Number.isInteger(cp) || cp <= 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
  return String.fromCodePoint(cp);
}

/** Decodes &amp; &#39; &#x2014; ...; an entity that names no character is left as written. */
export function decodeEntities(s: string): string {
  let out = '';
  let pos = 0;
  for (let amp = s.indexOf('&'); amp !== -1; amp = s.indexOf('&', amp + 1)) {
    const semi = s.indexOf(';', amp + 1);
    if (semi === -1) break;
    if (semi - amp > 12) continue; // no entity is that long
    const body = s.slice(amp + 1, semi);
    let decoded: string | undefined;
    if (/^#x[0-9a-f]{1,8}$/i.test(body)) decoded = codePoint(parseInt(body.slice(2), 16));
    else if (/^#[0-9]{1,9}$/.test(body)) decoded = codePoint(Number(body.slice(1)));
    else decoded = ENTITIES.get(body.toLowerCase());
    if (decoded === undefined) continue;
    out += s.slice(pos, amp) + decoded;
    pos = semi + 1;
    amp = semi;
  }
  return out + s.slice(pos);
}

const clean = (s: string | undefined) => (s ? decodeEntities(s).replace(/\s+/g, ' ').trim() : undefined);

/** Lower-cases ASCII only, so indexes in the copy are indexes in the original. */
function asciiLower(s: string): string {
  const lower = s.toLowerCase();
  return lower.length === s.length ? lower : s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

interface Tag {
  name: string;
  /** The text between the tag name and ">". */
  attrs: string;
  start: number;
  end: number;
}

/** Every start tag from `from` on, in order. Each character is looked at a bounded number of times. */
function* tags(html: string, from = 0): Generator<Tag> {
  let gt = -1;
  for (let lt = html.indexOf('<', from); lt !== -1; ) {
    if (gt < lt) {
      gt = html.indexOf('>', lt + 1);
      if (gt === -1) return; // nothing after this can close a tag
    }
    let i = lt + 1;
    while (i < gt && /[A-Za-z0-9]/.test(html[i])) i++;
    if (i > lt + 1) {
      yield { name: html.slice(lt + 1, i).toLowerCase(), attrs: html.slice(i, gt), start: lt, end: gt + 1 };
      lt = html.indexOf('<', gt + 1);
    } else {
      lt = html.indexOf('<', lt + 1); // "<<a ...>" or "< 3": the next "<" may still open a tag
    }
  }
}

/** Attributes of a tag, parsed in one forward pass (name=value, quoted or not). */
function parseAttrs(attrs: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = attrs.length;
  const isSpace = (c: string) => c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f' || c === '/';
  while (i < n) {
    while (i < n && isSpace(attrs[i])) i++;
    const nameStart = i;
    while (i < n && !isSpace(attrs[i]) && attrs[i] !== '=') i++;
    const name = attrs.slice(nameStart, i).toLowerCase();
    while (i < n && (attrs[i] === ' ' || attrs[i] === '\n' || attrs[i] === '\t' || attrs[i] === '\r')) i++;
    if (attrs[i] !== '=') {
      if (name && !out.has(name)) out.set(name, '');
      if (i === nameStart) i++;
      continue;
    }
    i++;
    while (i < n && (attrs[i] === ' ' || attrs[i] === '\n' || attrs[i] === '\t' || attrs[i] === '\r')) i++;
    let value: string;
    const q = attrs[i];
    if (q === '"' || q === "'") {
      const close = attrs.indexOf(q, i + 1);
      const stop = close === -1 ? n : close;
      value = attrs.slice(i + 1, stop);
      i = stop + 1;
    } else {
      const start = i;
      while (i < n && attrs[i] !== ' ' && attrs[i] !== '\n' && attrs[i] !== '\t' && attrs[i] !== '\r') i++;
      value = attrs.slice(start, i);
    }
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** "Acme — Widgets for teams | Home" -> "Acme". */
function nameFromTitle(title: string | undefined): string | undefined {
  if (!title) return undefined;
  // `title` is whitespace-collapsed by clean(), so the separators are single spaces.
  let cut = title.length;
  for (const sep of [' | ', ' – ', ' — ', ' · ', ' : ', ' - ']) {
    const at = title.indexOf(sep);
    if (at !== -1 && at < cut) cut = at;
  }
  const first = title.slice(0, cut).trim();
  return first && first.length <= 80 ? first : undefined;
}

const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;

/** Addresses at `own` (or its subdomains) written out in `text`: each "@" expands a bounded distance both ways. */
function emailsAt(text: string, own: string, into: Set<string>): void {
  for (let at = text.indexOf('@'); at !== -1 && into.size < 20; at = text.indexOf('@', at + 1)) {
    let l = at;
    while (l > 0 && at - l <= MAX_LOCAL_PART && LOCAL_CHAR.test(text[l - 1])) l--;
    if (l === at || at - l > MAX_LOCAL_PART) continue;
    let r = at + 1;
    while (r < text.length && r - at <= MAX_DOMAIN && DOMAIN_CHAR.test(text[r])) r++;
    const domain = text.slice(at + 1, r).replace(/\.+$/, '').toLowerCase();
    if (domain === own || domain.endsWith(`.${own}`)) into.add(`${text.slice(l, at)}@${domain}`.toLowerCase());
  }
}

function mailtoAddress(href: string): string | undefined {
  let addr = href.slice(7);
  const q = addr.indexOf('?');
  if (q !== -1) addr = addr.slice(0, q);
  try {
    addr = decodeURIComponent(addr);
  } catch {
    return undefined; // "a%ZZ@acme.com" is no address
  }
  addr = addr.trim().toLowerCase();
  const at = addr.indexOf('@');
  if (at < 1 || at !== addr.lastIndexOf('@') || /\s/.test(addr)) return undefined;
  const domain = addr.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  return dot > 0 && /^[a-z]{2,}$/.test(domain.slice(dot + 1)) ? addr : undefined;
}

export interface HomepageFacts {
  name?: string;
  description?: string;
  socialProfiles: Record<string, string>;
  contactEmails: string[];
}

export function extractHomepage(page: string, domain: string): HomepageFacts {
  const html = page.length > MAX_PARSE_CHARS ? page.slice(0, MAX_PARSE_CHARS) : page;
  const lower = asciiLower(html);
  let title: string | undefined;
  const meta = new Map<string, string>();
  const socialProfiles: Record<string, string> = {};
  const emails = new Set<string>();
  // Text between tags, outside <script> and <style>: where addresses written on the page are
  // looked for (an href's mailto: is read as a link above, not as text).
  const visible: string[] = [];
  let visibleFrom = 0;

  for (let it = tags(html), next = it.next(); !next.done; next = it.next()) {
    const tag = next.value;
    visible.push(html.slice(visibleFrom, tag.start));
    visibleFrom = tag.end;
    if (tag.name === 'script' || tag.name === 'style') {
      const close = lower.indexOf(`</${tag.name}`, tag.end);
      visibleFrom = close === -1 ? html.length : close;
      if (close === -1) break;
      it = tags(html, close);
      continue;
    }
    if (tag.start >= HEAD_CHARS && tag.name !== 'a') continue;
    if (tag.name === 'title' && title === undefined) {
      const close = lower.indexOf('</title', tag.end);
      title = clean(html.slice(tag.end, close === -1 ? Math.min(html.length, tag.end + 1000) : Math.min(close, tag.end + 1000))) ?? '';
    } else if (tag.name === 'meta') {
      const a = parseAttrs(tag.attrs);
      const key = (a.get('property') || a.get('name') || '').toLowerCase();
      const content = clean(a.get('content'));
      if (key && content && !meta.has(key)) meta.set(key, content);
    } else if (tag.name === 'a') {
      const raw = parseAttrs(tag.attrs).get('href');
      if (!raw || raw.length > MAX_HREF) continue;
      const href = clean(raw);
      if (!href) continue;
      if (/^mailto:/i.test(href)) {
        const addr = mailtoAddress(href);
        if (addr && emails.size < 20) emails.add(addr);
        continue;
      }
      for (const s of SOCIAL) {
        if (!socialProfiles[s.key] && s.re.test(href)) socialProfiles[s.key] = href.replace(/\/$/, '');
      }
    }
  }
  visible.push(html.slice(visibleFrom));
  emailsAt(visible.join(' '), domain.toLowerCase(), emails);

  const pick = (keys: string[]) => keys.map((k) => meta.get(k)).find(Boolean);
  return {
    name: pick(['og:site_name', 'application-name']) ?? nameFromTitle(title || undefined),
    description: pick(['description', 'og:description', 'twitter:description']),
    socialProfiles,
    contactEmails: [...emails].slice(0, 20),
  };
}
