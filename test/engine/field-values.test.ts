// The SDK's shared value cleaners, which the provider plugins (prospeo, contactout, leadmagic,
// findymail, exa, firecrawl) use instead of copies of their own.
import { clean, defined, domainOf, dropEmpty, httpUrl, linkedinUrl, workEmail } from '../../src/sdk/index.js';

describe('shared value cleaners', () => {
  test('workEmail lower-cases a real address and drops masked, empty and non-string values', () => {
    expect(workEmail('  Jane.Doe@Acme.com ')).toBe('jane.doe@acme.com');
    expect(workEmail('eoghan.*****@intercom.com')).toBeUndefined();
    expect(workEmail('not an email')).toBeUndefined();
    expect(workEmail('   ')).toBeUndefined();
    expect(workEmail(null)).toBeUndefined();
    expect(workEmail(42)).toBeUndefined();
  });

  test('linkedinUrl keeps only the asked kind, in canonical form', () => {
    expect(linkedinUrl(' https://www.linkedin.com/in/Example-Person/ ', 'person')).toBe('https://www.linkedin.com/in/example-person');
    expect(linkedinUrl('https://www.linkedin.com/company/acme', 'person')).toBeUndefined();
    expect(linkedinUrl('https://example.com/in/someone', 'person')).toBeUndefined();
    expect(linkedinUrl(undefined, 'company')).toBeUndefined();
  });

  test('domainOf reads a domain out of a URL or address and drops what is not one', () => {
    expect(domainOf(' https://www.Acme.com/about ')).toBe('acme.com');
    expect(domainOf('[::1]')).toBeUndefined();
    expect(domainOf('')).toBeUndefined();
  });

  test('clean, httpUrl, defined and dropEmpty drop empty values and keep the rest as given', () => {
    expect(clean('  x ')).toBe('x');
    expect(clean(' ')).toBeUndefined();
    expect(httpUrl('ftp://acme.com')).toBeUndefined();
    expect(httpUrl('https://acme.com/x')).toBe('https://acme.com/x');
    expect(defined({ a: 1, b: undefined, c: '' })).toEqual({ a: 1, c: '' });
    expect(dropEmpty({ 'person.title': undefined, 'person.webMentions': [], 'company.domain': 'acme.com' })).toEqual({ 'company.domain': 'acme.com' });
  });
});
