// The hand-written Node `dgram` UDP echo every echo UDP model is compared with: the least Node can do.
import { createSocket } from "node:dgram";

const port = Number(process.argv[2] ?? 9999);
const socket = createSocket("udp4");
socket.on("message", (data, rinfo) => socket.send(data, rinfo.port, rinfo.address));
socket.bind({ address: "127.0.0.1", port }, () => process.stdout.write(`listening ${port}\n`));
process.on("SIGTERM", () => process.exit(0));
