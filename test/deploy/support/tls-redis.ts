// A redis-server of the test's own that speaks TLS only (--port 0 --tls-port <free port>), with a
// CA and a server certificate for 127.0.0.1 made with openssl at test time in a temp dir, and a
// second CA that signed nothing (the "wrong CA"). Like a managed Redis it takes an ACL user and
// password only (the default user is off). Stopped (and the dir removed) by stop().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../support/own-service.js';

export interface TlsRedis {
  /** rediss://<user>:<password>@127.0.0.1:<port> */
  url: string;
  port: number;
  /** The CA that signed the server's certificate (PEM). */
  caFile: string;
  /** A CA that signed nothing here. */
  otherCaFile: string;
  stop(): Promise<void>;
}

const USER = 'enrichbot';
const PASSWORD = 'tls-test-password';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
}

/** A self-signed CA, and a server certificate it signed for IP 127.0.0.1 and localhost. */
function makeCertificates(dir: string): void {
  const ca = (name: string) => openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=enrichbot test ${name}`]);
  ca('ca');
  ca('other-ca');
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.cnf']);
}

/** Resolves once redis-server says it accepts connections; rejects with its output if it exits first. */
function started(child: ChildProcess): Promise<void> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 15 s: ${out}`)), 15_000);
    const read = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
}

export async function startTlsRedis(): Promise<TlsRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'enrichbot-tls-redis-'));
  makeCertificates(dir);
  let child: ChildProcess | undefined;
  let port = 0;
  // A port found free can be taken before redis-server binds it: try a few.
  for (let attempt = 0; !child && attempt < 5; attempt++) {
    port = await freePort();
    const tls = ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', 'server.crt', '--tls-key-file', 'server.key', '--tls-ca-cert-file', 'ca.crt', '--tls-auth-clients', 'no'];
    const acl = ['--user', USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all', '--user', 'default', 'off'];
    const c = spawn('redis-server', [...tls, ...acl, '--save', '', '--appendonly', 'no', '--dir', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await started(c);
      child = c;
    } catch (err) {
      c.kill('SIGKILL');
      if (attempt === 4) throw err;
    }
  }
  const server = child!;
  return {
    url: `rediss://${USER}:${PASSWORD}@127.0.0.1:${port}`,
    port,
    caFile: path.join(dir, 'ca.crt'),
    otherCaFile: path.join(dir, 'other-ca.crt'),
    async stop() {
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        const killer = setTimeout(() => server.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
