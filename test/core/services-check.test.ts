// The test command readies its services (test/support/global-setup.ts): given URLs must answer;
// unset ones fall back to the defaults, and when nothing answers there either it runs the
// service script (scripts/services.sh in real runs; a stand-in here, so the test starts no
// FerretDB), hands the URLs it printed to the tests and stops it again in the teardown.
import net from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import globalSetup, { readyServices } from '../support/global-setup.js';
import globalTeardown from '../support/global-teardown.js';

const saved = { m: process.env.MONGODB_URL, r: process.env.REDIS_URL };
const restore = () => {
  for (const [k, v] of [['MONGODB_URL', saved.m], ['REDIS_URL', saved.r]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
};
afterEach(restore);

test('a given URL that does not answer fails at once, saying to start it or unset it', async () => {
  process.env.MONGODB_URL = 'mongodb://127.0.0.1:1/none';
  process.env.REDIS_URL = 'redis://127.0.0.1:1';
  await expect(globalSetup()).rejects.toThrow(/not reachable: start them, or unset MONGODB_URL and REDIS_URL to let the tests start their own \(scripts\/services\.sh\)\.$/);
});

test('with the URLs unset and nothing on the defaults, it runs the service script, exports what it printed, and the teardown stops it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebt-services-'));
  // What the "started" services listen on: a plain TCP server is enough for the reachability check.
  const server = net.createServer((s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const script = path.join(dir, 'services.sh');
  writeFileSync(
    script,
    `case "$1" in
  start) mkdir -p "${dir}/state"; echo "$ENRICHBOT_MONGODB_PORT $ENRICHBOT_REDIS_PORT" > "${dir}/asked"
         echo "export MONGODB_URL='mongodb://127.0.0.1:${port}/enrichbot?directConnection=true'"
         echo "export REDIS_URL='redis://127.0.0.1:${port}'"
         echo "export ENRICHBOT_SERVICES_STATE='${dir}/state'" ;;
  stop) echo "$2" > "${dir}/stopped" ;;
esac
`,
  );
  try {
    delete process.env.MONGODB_URL;
    delete process.env.REDIS_URL;
    await readyServices({ mongo: 'mongodb://127.0.0.1:1/enrichbot', redis: 'redis://127.0.0.1:2', script });
    expect(process.env.MONGODB_URL).toBe(`mongodb://127.0.0.1:${port}/enrichbot?directConnection=true`);
    expect(process.env.REDIS_URL).toBe(`redis://127.0.0.1:${port}`);
    // The script is told which default ports were looked at, so it looks at the same ones.
    expect(readFileSync(path.join(dir, 'asked'), 'utf8').trim()).toBe('1 2');
    expect(existsSync(path.join(dir, 'stopped'))).toBe(false);

    await globalTeardown();
    expect(readFileSync(path.join(dir, 'stopped'), 'utf8').trim()).toBe(path.join(dir, 'state'));
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with the URLs unset and the defaults answering, it starts nothing', async () => {
  const server = net.createServer((s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    delete process.env.MONGODB_URL;
    delete process.env.REDIS_URL;
    await readyServices({ mongo: `mongodb://127.0.0.1:${port}/enrichbot`, redis: `redis://127.0.0.1:${port}`, script: '/nonexistent/services.sh' });
    expect(process.env.MONGODB_URL).toBeUndefined();
    expect(process.env.REDIS_URL).toBeUndefined();
  } finally {
    server.close();
  }
});
