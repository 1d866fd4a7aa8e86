import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Binds `server`; resolves with the bound address (port 0 picks a free one), rejects on EADDRINUSE and the like. */
export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
