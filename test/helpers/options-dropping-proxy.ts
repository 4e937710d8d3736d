/**
 * A TCP proxy in front of PostgreSQL that silently drops the `options` startup parameter, as a pooler
 * configured with `ignore_startup_parameters = options` does: the connection succeeds, and runs
 * without the settings the client asked for. Plain TCP only (the test server takes no SSL).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Proxy {
  /** The upstream URL with its host and port replaced by the proxy's. */
  readonly url: string;
  stop(): Promise<void>;
}

/** The startup message without its `options` pair (any other message is passed on as it is). */
function withoutOptions(message: Buffer): Buffer {
  const protocol = message.readInt32BE(4);
  if (protocol !== 196608) return message; // SSLRequest, CancelRequest...
  const parts = message.subarray(8, message.length - 1).toString('utf8').split('\0');
  const kept: string[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i] !== 'options') kept.push(parts[i]!, parts[i + 1]!);
  const body = Buffer.from(`${kept.join('\0')}\0\0`, 'utf8');
  const out = Buffer.alloc(8 + body.length);
  out.writeInt32BE(out.length, 0);
  out.writeInt32BE(protocol, 4);
  body.copy(out, 8);
  return out;
}

export async function startOptionsDroppingProxy(upstreamUrl: string): Promise<Proxy> {
  const upstream = new URL(upstreamUrl);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    const server = net.connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(server);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 4 || head.length < head.readInt32BE(0)) return;
      const length = head.readInt32BE(0);
      server.write(withoutOptions(head.subarray(0, length)));
      if (head.length > length) server.write(head.subarray(length));
      client.off('data', onData);
      client.pipe(server);
    };
    client.on('data', onData);
    server.pipe(client);
    const close = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on('error', close).on('close', close);
    server.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
