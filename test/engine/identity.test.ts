import fc from 'fast-check';
import { parseIdentity, normalizeDomain, normalizeEmail, emailMatchKey, normalizeLinkedinUrl, isFreeMailDomain, identityFromFields } from '../../src/engine/identity.js';
import { ErrorCodes } from '../../src/errors.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'no error';
};

describe('identity normalization', () => {
  test('emails are lowercased and trimmed, keep the plus-tag, and match without it', () => {
    const id = parseIdentity('  Jane+CRM@Acme.COM ');
    expect(id.kind).toBe('email');
    expect(id.person?.workEmail).toBe('jane+crm@acme.com');
    expect(id.key).toBe('person:email:jane@acme.com');
    expect(parseIdentity('jane@acme.com').key).toBe(id.key);
    expect(emailMatchKey(normalizeEmail('A+b+c@x.io'))).toBe('a@x.io');
  });

  test('a free-mail address is personal and brings no company', () => {
    expect(isFreeMailDomain('gmail.com')).toBe(true);
    expect(isFreeMailDomain('acme.com')).toBe(false);
    const id = parseIdentity('jane.doe@gmail.com');
    expect(id.person).toEqual({ personalEmail: 'jane.doe@gmail.com' });
    expect(id.company).toBeUndefined();
  });

  test('domains lose scheme, www, path and port; IDNs become punycode', () => {
    expect(normalizeDomain('https://www.Acme.com:8443/about?x=1')).toBe('acme.com');
    expect(normalizeDomain('bücher.de')).toBe('xn--bcher-kva.de');
    expect(parseIdentity('http://app.acme.co.uk/login').company?.domain).toBe('acme.co.uk');
  });

  test('IP addresses and bare suffixes are refused as domains', () => {
    expect(code(() => normalizeDomain('127.0.0.1'))).toBe(ErrorCodes.INPUT_INVALID);
    expect(code(() => normalizeDomain('[::1]'))).toBe(ErrorCodes.INPUT_INVALID);
    expect(code(() => normalizeDomain('co.uk'))).toBe(ErrorCodes.INPUT_INVALID);
    expect(code(() => parseIdentity('http://10.0.0.1/'))).toBe(ErrorCodes.INPUT_INVALID);
  });

  test('LinkedIn person and company URLs become canonical', () => {
    expect(normalizeLinkedinUrl('linkedin.com/in/Jane-Doe-123/?trk=x').url).toBe('https://www.linkedin.com/in/jane-doe-123');
    expect(parseIdentity('https://uk.linkedin.com/in/jane-doe').key).toBe('person:linkedin:jane-doe');
    const co = parseIdentity('https://www.linkedin.com/company/acme-inc/about/');
    expect(co.subject).toBe('company');
    expect(co.company?.linkedinUrl).toBe('https://www.linkedin.com/company/acme-inc');
  });

  test('"First Last @ company" gives a person at a domain or a named company', () => {
    const a = parseIdentity('Jane   Doe @ acme.com');
    expect(a.person).toMatchObject({ firstName: 'Jane', lastName: 'Doe', fullName: 'Jane Doe' });
    expect(a.company).toEqual({ domain: 'acme.com' });
    const b = parseIdentity('Jane Doe @ Acme Inc');
    expect(b.company).toEqual({ name: 'Acme Inc' });
    expect(code(() => parseIdentity('Jane @ acme.com'))).toBe(ErrorCodes.INPUT_INVALID);
  });

  test('a company name alone is a company identity; empty input is refused before any spend', () => {
    expect(parseIdentity('Acme Inc').kind).toBe('company-name');
    expect(code(() => parseIdentity('   '))).toBe(ErrorCodes.INPUT_INVALID);
    expect(code(() => parseIdentity('!!!'))).toBe(ErrorCodes.INPUT_INVALID);
    expect(code(() => identityFromFields({}))).toBe(ErrorCodes.INPUT_INVALID);
  });

  test('the same email in any case or spacing always gives the same key (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9.]{0,15}$/), fc.constantFrom('acme.com', 'example.org', 'widgets.io'), fc.boolean(), (local, domain, upper) => {
        const raw = `${upper ? local.toUpperCase() : local}@${domain}`;
        expect(parseIdentity(`  ${raw} `).key).toBe(parseIdentity(`${local}+tag@${domain}`).key);
      }),
    );
  });
});
