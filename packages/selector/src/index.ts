/**
 * `@echo/selector`: real `select`, `poll` and `epoll` through a small Node-API addon, raw
 * non-blocking socket calls, and the readiness-loop server built on them.
 * @module
 */
export {
  SelectorErrorCodes,
  NativeUnavailableError,
  FdSetSizeError,
  AlreadyRegisteredError,
  NotRegisteredError,
  SelectorClosedError,
  SystemCallError,
  IoUringUnavailableError,
} from "./errors.js";

export {
  BaseSelector,
  EpollSelector,
  PollSelector,
  SelectSelector,
  IoUringSelector,
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  FD_SETSIZE,
} from "./selectors.js";
export type { SelectorKey, SelectorEvent } from "./selectors.js";

export {
  WOULD_BLOCK,
  listenSocket,
  acceptSocket,
  recvInto,
  sendFrom,
  closeSocket,
  shutdownSocket,
  getSockName,
  getPeerName,
  createPipe,
} from "./sockets.js";
export type { SocketAddress } from "./sockets.js";

export { SelectorServer, createSelectorServer } from "./server.js";
export type { LoopStats, SelectorCloseOptions } from "./server.js";
export { MAX_LOOPS, selectorKinds } from "./options.js";
export type { LoopAccept, SelectorKind, SelectorServerOptions } from "./options.js";
