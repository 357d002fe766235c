// A local DNS server (dns2, UDP on loopback) that answers with a chosen error code, or not at all,
// so the dns provider's handling of NXDOMAIN, SERVFAIL, REFUSED and silence can be tested.
// (test/support/dns-server.ts only answers NOERROR.)
import dns2 from 'dns2';

export type Failure = 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'silent';

export interface FailingDnsServer {
  address: string;
  queries: string[];
  close(): Promise<void>;
}

export async function startFailingDnsServer(failures: Record<string, Failure>): Promise<FailingDnsServer> {
  const { Packet } = dns2;
  const queries: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const name = request.questions[0]?.name.toLowerCase() ?? '';
      queries.push(name);
      const failure = failures[name];
      if (failure === 'silent') return;
      const rcode = failure ? Packet.RCODE[failure] : Packet.RCODE.NXDOMAIN;
      send(Packet.createErrorResponseFromRequest(request, rcode));
    },
  });
  const listening = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const port = (listening as unknown as { udp: { port: number } }).udp.port;
  return { address: `127.0.0.1:${port}`, queries, close: () => server.close() as Promise<void> };
}
