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

describe('hostile and look-alike inputs', () => {
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return { code: (err as { code?: string }).code, message: (err as Error).message };
    }
    return { code: 'no error', message: '' };
  };

  test('control and bidi characters are stripped before anything is stored or keyed', () => {
    const id = parseIdentity('Ac\u202Eme\u0000 In\u200Bc\u2066\u0007');
    expect(id).toMatchObject({ kind: 'company-name', display: 'Acme Inc', key: 'company:name:acme inc' });
    expect(parseIdentity('jane\u200E@acme.com').person?.workEmail).toBe('jane@acme.com');
    const fields = identityFromFields({ email: 'jane@acme.com', firstName: 'Ja\u202Ene', lastName: 'Doe\u0085' });
    expect(fields.person).toMatchObject({ firstName: 'Jane', lastName: 'Doe', fullName: 'Jane Doe' });
  });

  test('full-width ａｃｍｅ．ｃｏｍ is the domain acme.com (NFKC)', () => {
    expect(parseIdentity('ａｃｍｅ．ｃｏｍ')).toMatchObject({ kind: 'domain', company: { domain: 'acme.com' } });
    expect(parseIdentity('ｊａｎｅ＠ａｃｍｅ．ｃｏｍ').person?.workEmail).toBe('jane@acme.com');
  });

  test.each([
    ['jane@', /email/],
    ['@acme', /email/],
    ['localhost', /local/],
    ['com', /suffix/],
    ['.com', /suffix/],
    ['co.uk', /suffix/],
    ['javascript:alert(1)', /javascript:/],
    ['file:///etc/passwd', /file:/],
    ['[::1]', /IP address/],
    ['0x7f000001', /IP address/],
    ['2130706433', /IP address/],
    ['127.1', /IP address/],
  ])('%s is refused as a company name, with the reason', (input, reason) => {
    const r = message(() => parseIdentity(input));
    expect(r.code).toBe(ErrorCodes.INPUT_INVALID);
    expect(r.message).toMatch(reason);
    expect(message(() => identityFromFields({ companyName: input })).code).toBe(ErrorCodes.INPUT_INVALID);
    expect(message(() => parseIdentity(`Jane Doe @ ${input}`)).code).toBe(ErrorCodes.INPUT_INVALID);
  });

  test.each(['Apple', 'IBM', 'GE', '3M', '7-Eleven', 'AT&T', 'Acme: Widgets', 'Société Générale'])('the real company name %s still passes', (name) => {
    expect(parseIdentity(name)).toMatchObject({ kind: 'company-name' });
  });
});
