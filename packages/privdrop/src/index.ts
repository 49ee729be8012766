/**
 * `@echo/privdrop`: bind a privileged port as root, then drop to an unprivileged user and prove it.
 * @module
 */
export { dropPrivileges, resolveDropTarget } from "./drop.js";
export type { Credentials, DropResult, DroppedResult, DropTarget, NotDroppedResult } from "./drop.js";

export { formatDropResult, formatUmask } from "./format.js";

export { verifyDropped } from "./verify.js";
export type { DropExpectation } from "./verify.js";

export { normalizeDropOptions, DEFAULT_UMASK } from "./options.js";
export type { DropOptions, IdSpec, NormalizedDropOptions } from "./options.js";

export { lookupUser, lookupGroup, findUser, findGroup } from "./lookup.js";
export type { GroupEntry, UserEntry } from "./lookup.js";

export { readProcStatus, parseProcStatus } from "./proc-status.js";
export type { CapabilitySets, IdSet, ProcStatus } from "./proc-status.js";

export { PrivdropError, PrivdropVerifyError, PrivdropErrorCodes } from "./errors.js";
export type { PrivdropErrorCode } from "./errors.js";
