// A local DNS server (dns2) so name resolution in tests stays on loopback: A records for
// fixture sites, MX records for the dns provider, and names that resolve to private ranges.
import dns2 from 'dns2';

export interface Zone {
  a?: Record<string, string[]>;
  mx?: Record<string, { exchange: string; priority: number }[]>;
}

export interface DnsServer {
  address: string;
  zone: Zone;
  /** Every question asked, "A name" / "AAAA name" / "MX name", in arrival order. */
  queries: string[];
  close(): Promise<void>;
}

export async function startDnsServer(zone: Zone): Promise<DnsServer> {
  const { Packet } = dns2;
  const queries: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      for (const q of request.questions) {
        const name = q.name.toLowerCase();
        queries.push(`${q.type === Packet.TYPE.A ? 'A' : q.type === Packet.TYPE.MX ? 'MX' : q.type === Packet.TYPE.AAAA ? 'AAAA' : String(q.type)} ${name}`);
        if (q.type === Packet.TYPE.A) {
          for (const address of zone.a?.[name] ?? []) response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 60, address } as never);
        } else if (q.type === Packet.TYPE.MX) {
          for (const mx of zone.mx?.[name] ?? []) response.answers.push({ name: q.name, type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 60, exchange: mx.exchange, priority: mx.priority } as never);
        }
      }
      send(response);
    },
  });
  const listening = await server.listen({ udp: { port: 0, address: '127.0.0.1', type: 'udp4' } as never });
  const port = (listening as unknown as { udp: { port: number } }).udp.port;
  return {
    address: `127.0.0.1:${port}`,
    zone,
    queries,
    close: () => server.close() as Promise<void>,
  };
}
