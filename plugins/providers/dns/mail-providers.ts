// Which hosted mail service a domain uses, read off its MX host names. The suffixes are the
// hosts each service tells its customers to publish (its own setup docs); anything else is "other".

interface MailService {
  name: string;
  /** Host-name suffixes, matched on a label boundary ("google.com" matches "aspmx.l.google.com"). */
  suffixes: string[];
  /** Extra check for shared infrastructure (Amazon's inbound-smtp hosts under amazonaws.com). */
  hostPattern?: RegExp;
}

const SERVICES: MailService[] = [
  // aspmx.l.google.com + alt1..4, the older aspmx2..5.googlemail.com, and smtp.google.com (the
  // single MX Google has told new Workspace customers to publish since 2023).
  { name: 'Google Workspace', suffixes: ['aspmx.l.google.com', 'googlemail.com', 'smtp.google.com'] },
  // <tenant>.mail.protection.outlook.com, and <tenant>.<region>.mx.microsoft (the DNSSEC-signed
  // endpoints Microsoft introduced in 2024).
  { name: 'Microsoft 365', suffixes: ['mail.protection.outlook.com', 'mx.microsoft', 'outlook.com', 'hotmail.com'] },
  { name: 'Zoho', suffixes: ['zoho.com', 'zoho.eu', 'zoho.in', 'zoho.com.au', 'zoho.jp', 'zoho.com.cn', 'zoho.sa', 'zohocloud.ca', 'zohomail.com'] },
  // mail.protonmail.ch and mailsec.protonmail.ch.
  { name: 'Proton', suffixes: ['protonmail.ch', 'proton.me'] },
  // in1-smtp.messagingengine.com and in2-smtp.messagingengine.com.
  { name: 'Fastmail', suffixes: ['messagingengine.com', 'fastmail.com'] },
  { name: 'Mimecast', suffixes: ['mimecast.com', 'mimecast.co.za', 'mimecast-offshore.com'] },
  // Enterprise: mx0a-<id>.pphosted.com; Essentials: mx1-us1.ppe-hosted.com.
  { name: 'Proofpoint', suffixes: ['pphosted.com', 'ppe-hosted.com', 'proofpoint.com'] },
  // d123456a.ess.barracudanetworks.com.
  { name: 'Barracuda', suffixes: ['barracudanetworks.com', 'barracuda.com'] },
  // SES receiving and WorkMail both publish inbound-smtp.<region>.amazonaws.com.
  { name: 'Amazon SES/WorkMail', suffixes: ['amazonaws.com', 'awsapps.com'], hostPattern: /^inbound-smtp\.[a-z0-9-]+\.amazonaws\.com$|\.awsapps\.com$/ },
  { name: 'Yandex', suffixes: ['yandex.net', 'yandex.ru'] },
  { name: 'OVH', suffixes: ['ovh.net', 'ovh.ca', 'ovhcloud.com'] },
  // Workspace Email: mailstore1.secureserver.net and smtp.secureserver.net.
  { name: 'GoDaddy', suffixes: ['secureserver.net'] },
];

export const OTHER_PROVIDER = 'other';

function matches(host: string, service: MailService): boolean {
  const bySuffix = service.suffixes.some((s) => host === s || host.endsWith(`.${s}`));
  return bySuffix && (!service.hostPattern || service.hostPattern.test(host));
}

/** The service behind one MX host, or undefined when it is not a known hosted service. */
export function serviceOf(host: string): string | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  return SERVICES.find((s) => matches(h, s))?.name;
}

/**
 * The mail provider for MX hosts already sorted by preference: the most preferred host that
 * belongs to a known service decides (a security gateway in front of Microsoft 365 is what
 * receives the mail, so it is named). "other" when no host is recognized.
 */
export function mailProviderOf(hostsByPreference: string[]): { provider: string; recognized: boolean } {
  for (const host of hostsByPreference) {
    const name = serviceOf(host);
    if (name) return { provider: name, recognized: true };
  }
  return { provider: OTHER_PROVIDER, recognized: false };
}
