import * as net from 'node:net';

/**
 * A TCP port that is free on this machine now, for the rendezvous of a multi-process run (the
 * operating system picks it; a small window remains before the trainer binds it).
 */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
