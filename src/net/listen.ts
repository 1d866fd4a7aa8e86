import { unlinkSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';

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

/** Binds `server` to a Unix socket file, replacing a stale file left by a crashed predecessor. */
export async function listenSocketFile(server: Server, path: string): Promise<void> {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
