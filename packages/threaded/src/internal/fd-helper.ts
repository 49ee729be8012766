/**
 * A tiny child process that turns a descriptor number into a fresh descriptor of the same socket
 * in its parent. Node has no dup(2), and a descriptor cannot be shared by two threads' handles
 * (each would close it), but a handle sent over a child's IPC channel arrives as a new
 * descriptor (SCM_RIGHTS). The parent passes the listening socket as this child's fd 4 (fd 3 is
 * the IPC channel); we wrap it without reading or listening, send it back, and exit when the
 * parent disconnects. This process never accepts a connection.
 * @internal
 */
import { Socket } from "node:net";

const socket = new Socket({ fd: 4, readable: false, writable: false });
const handle = (socket as unknown as { _handle: unknown })._handle;
// A `message` listener keeps the IPC channel referenced: we stay until the parent has the
// descriptor and disconnects, instead of exiting while the message may still be unread.
process.on("message", () => {});
process.send!({ type: "echo-threaded-listener" }, handle as never);
