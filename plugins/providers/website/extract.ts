// Company facts from a homepage's HTML: name, description, social profiles and the contact
// emails it shows. Plain pattern matching on a size-capped page; no script is run.

const SOCIAL: { key: string; re: RegExp }[] = [
  { key: 'linkedin', re: /^https?:\/\/([a-z]{2,3}\.)?(www\.)?linkedin\.com\/(company|school)\/[^/?#\s"']+/i },
  { key: 'x', re: /^https?:\/\/(www\.)?(twitter|x)\.com\/(?!intent|share|home)[A-Za-z0-9_]{1,15}\/?$/i },
  { key: 'github', re: /^https?:\/\/(www\.)?github\.com\/[A-Za-z0-9-]+\/?$/i },
  { key: 'facebook', re: /^https?:\/\/(www\.)?facebook\.com\/(?!sharer)[^/?#\s"']+\/?$/i },
  { key: 'instagram', re: /^https?:\/\/(www\.)?instagram\.com\/[^/?#\s"']+\/?$/i },
  { key: 'youtube', re: /^https?:\/\/(www\.)?youtube\.com\/(c\/|channel\/|user\/|@)[^/?#\s"']+\/?$/i },
  { key: 'crunchbase', re: /^https?:\/\/(www\.)?crunchbase\.com\/organization\/[^/?#\s"']+\/?$/i },
];

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

export function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&([a-z0-9#]+);/gi, (m, n) => ENTITIES[n.toLowerCase()] ?? m);
}

const clean = (s: string | undefined) => (s ? decodeEntities(s).replace(/\s+/g, ' ').trim() : undefined);

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? (m[2] ?? m[3] ?? m[4]) : undefined;
}

function metaContent(html: string, keys: string[]): string | undefined {
  for (const tag of html.match(/<meta\b[^>]*>/gi) ?? []) {
    const k = (attr(tag, 'property') ?? attr(tag, 'name') ?? '').toLowerCase();
    if (keys.includes(k)) {
      const c = clean(attr(tag, 'content'));
      if (c) return c;
    }
  }
  return undefined;
}

/** "Acme — Widgets for teams | Home" -> "Acme". */
function nameFromTitle(title: string | undefined): string | undefined {
  if (!title) return undefined;
  const first = title.split(/\s+[|–—·:-]\s+/)[0]?.trim();
  return first && first.length <= 80 ? first : undefined;
}

export interface HomepageFacts {
  name?: string;
  description?: string;
  socialProfiles: Record<string, string>;
  contactEmails: string[];
}

export function extractHomepage(html: string, domain: string): HomepageFacts {
  const head = html.slice(0, 200_000);
  const title = clean(/<title[^>]*>([\s\S]*?)<\/title>/i.exec(head)?.[1]);
  const name = metaContent(head, ['og:site_name', 'application-name']) ?? nameFromTitle(title);
  const description = metaContent(head, ['description', 'og:description', 'twitter:description']);

  const socialProfiles: Record<string, string> = {};
  const emails = new Set<string>();
  for (const tag of html.match(/<a\b[^>]*>/gi) ?? []) {
    const href = clean(attr(tag, 'href'));
    if (!href) continue;
    if (/^mailto:/i.test(href)) {
      const addr = href.slice(7).split('?')[0].trim().toLowerCase();
      if (/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/.test(addr)) emails.add(decodeURIComponent(addr));
      continue;
    }
    for (const s of SOCIAL) {
      if (!socialProfiles[s.key] && s.re.test(href)) socialProfiles[s.key] = href.replace(/\/$/, '');
    }
  }
  // Addresses written out on the page, at the company's own domain only (not vendors' or examples).
  const text = html.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ');
  const own = domain.toLowerCase().replace(/\./g, '\\.');
  for (const m of text.matchAll(new RegExp(`[a-z0-9._%+-]+@(?:[a-z0-9-]+\\.)*${own}\\b`, 'gi'))) emails.add(m[0].toLowerCase());

  return { name, description, socialProfiles, contactEmails: [...emails].slice(0, 20) };
}
