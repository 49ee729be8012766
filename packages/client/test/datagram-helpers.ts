/**
 * Tiny real UDP servers for the datagram tests, on 127.0.0.1 port 0, each closed after its test.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";

export interface UdpTestServer {
  port: number;
  /** Datagrams received so far. */
  received: number;
  close(): Promise<void>;
}

/** What a test server does with each datagram: reply through `send`, or not. */
export type DatagramBehaviour = (data: Buffer, send: (data: Buffer) => void, server: UdpTestServer) => void;

export const echoDatagram: DatagramBehaviour = (data, send) => send(data);

/** Drops the datagrams whose sequence number (bytes 4–7, as echo-load writes them) is 3 mod 10. */
export const dropSeq3: DatagramBehaviour = (data, send) => {
  if (data.readUInt32BE(4) % 10 !== 3) send(data);
};

/** Holds every even-numbered datagram until the next one arrives, then sends that one first. */
export function swapPairs(): DatagramBehaviour {
  let held: Buffer | undefined;
  return (data, send) => {
    if (data.readUInt32BE(4) % 2 === 0) held = data;
    else {
      send(data);
      if (held) send(held);
      held = undefined;
    }
  };
}

/** Flips byte 10 of every datagram. */
export const corruptDatagram: DatagramBehaviour = (data, send) => {
  const copy = Buffer.from(data);
  copy[10] = (copy[10] as number) ^ 0xff;
  send(copy);
};

/** Never answers. */
export const silent: DatagramBehaviour = () => {};

export async function startUdpServer(behaviour: DatagramBehaviour, servers: UdpTestServer[]): Promise<UdpTestServer> {
  const socket: Socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind({ address: "127.0.0.1", port: 0 }, resolve));
  const server: UdpTestServer = {
    port: socket.address().port,
    received: 0,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on("message", (data: Buffer, rinfo: RemoteInfo) => {
    server.received++;
    behaviour(data, (reply) => socket.send(reply, rinfo.port, rinfo.address), server);
  });
  servers.push(server);
  return server;
}
