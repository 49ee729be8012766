import { IoUringSelector } from "@echo/selector";

/** Why io_uring cannot be used here, or undefined where it can (Linux 6.1+, not refused). */
export const ioUringUnavailable: string | undefined = (() => {
  try {
    new IoUringSelector().close();
    return undefined;
  } catch (error) {
    return (error as { reason?: string }).reason ?? String(error);
  }
})();
