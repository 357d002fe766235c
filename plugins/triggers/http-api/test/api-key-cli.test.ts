// `enrichbot api-key create|list|revoke` end to end: the real binary (dist/, built before jest)
// against a test database; the key it prints works on the API, and stops working once revoked.
import { jest } from '@jest/globals';
import mongoose from 'mongoose';
import { testNames } from '../../../../test/support/env.js';
import { dropTestData } from '../../../../test/support/test-app.js';
import { cliEnv, runCli, writeConfig } from '../../../../test/support/cli-env.js';
import { findActiveKey } from '../api-keys.js';

jest.setTimeout(120_000);
const names = testNames('api-key-cli');
const enabled = writeConfig({ plugins: { triggers: ['http-api'] } });
const disabled = writeConfig({});

afterAll(async () => {
  await dropTestData(names);
});

test('create prints a key once and stores only its hash; list shows it without the key; revoke stops it', async () => {
  const env = cliEnv(names, { ENRICHBOT_CONFIG: enabled });
  const created = await runCli(['api-key', 'create', '--workspace', 'W-cli', '--name', 'crm sync'], env);
  expect(created.code).toBe(0);
  const key = created.stdout.trim();
  expect(key).toMatch(/^ebk_[A-Za-z0-9_-]{43}$/);
  expect(created.stderr).toMatch(/not shown again/);

  const conn = await mongoose.createConnection(names.mongodbUrl).asPromise();
  try {
    const coll = conn.db!.collection('plugin_http_api_api_keys');
    const docs = await coll.find({}).toArray();
    expect(docs).toHaveLength(1);
    expect(JSON.stringify(docs)).not.toContain(key);
    const active = await findActiveKey(coll as never, key);
    expect(active).toMatchObject({ workspace: 'W-cli', name: 'crm sync' });
    const id = (active as { id: string }).id;

    const listed = await runCli(['api-key', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, workspace: 'W-cli', name: 'crm sync', revokedAt: null })]);
    expect(listed.stdout).not.toContain(key);

    const revoked = await runCli(['api-key', 'revoke', id], env);
    expect(revoked.code).toBe(0);
    expect(await findActiveKey(coll as never, key)).toEqual({ problem: 'revoked' });
    expect((await runCli(['api-key', 'revoke', 'key_000000000000'], env)).stderr).toMatch(/No API key key_000000000000.*ENRICHBOT_ERR_API_KEY_NOT_FOUND/);
  } finally {
    await conn.close();
  }
});

test('without http-api enabled the command says how to enable it', async () => {
  const r = await runCli(['api-key', 'list'], cliEnv(names, { ENRICHBOT_CONFIG: disabled }));
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/add http-api to plugins\.triggers/);
});

test('create --scope --expires and limits store them; list shows them; a bad scope or expiry is refused saying what to give', async () => {
  const env = cliEnv(names, { ENRICHBOT_CONFIG: enabled });
  const before = Date.now();
  const created = await runCli(['api-key', 'create', '--workspace', 'W-scope', '--scope', 'read,privacy', '--scope', 'enrich', '--expires', '30d', '--items-per-minute', '500', '--json'], env);
  expect(created.code).toBe(0);
  const out = JSON.parse(created.stdout) as { key: string; scopes: string[]; expiresAt: string; limits: Record<string, number> };
  expect(out.scopes).toEqual(['read', 'privacy', 'enrich']);
  expect(out.limits).toEqual({ itemsPerMinute: 500 });
  expect(Date.parse(out.expiresAt) - before).toBeGreaterThanOrEqual(30 * 86_400_000);
  expect(Date.parse(out.expiresAt) - before).toBeLessThan(31 * 86_400_000);
  const listed = await runCli(['api-key', 'list', '--workspace', 'W-scope'], env);
  expect(listed.stdout).toMatch(/read,privacy,enrich .* expires \d{4}-/);

  const badScope = await runCli(['api-key', 'create', '--workspace', 'W-scope', '--scope', 'everything'], env);
  expect(badScope.code).toBe(1);
  expect(badScope.stderr).toMatch(/Unknown scope "everything": use enrich, read, privacy, admin/);
  const badExpiry = await runCli(['api-key', 'create', '--workspace', 'W-scope', '--expires', 'soon'], env);
  expect(badExpiry.stderr).toMatch(/Invalid expiry "soon": give a duration such as 90d/);
});
