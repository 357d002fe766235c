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
