/**
 * Optional privilege dropping for the CLIs. `@echo/privdrop` is an optional peer: only a user
 * who asks for `--user`/`--group`/`--umask` needs it installed.
 * @module
 */
import { EchoError, ErrorCodes } from "../errors.js";
import type { PrivilegeArgs } from "./args.js";

interface PrivdropModule {
  dropPrivileges(options: PrivilegeArgs): { dropped: boolean; reason?: string } & Record<string, unknown>;
  formatDropResult?(result: unknown): string;
}

/**
 * Imports `@echo/privdrop`, or throws an {@link EchoError} `ECHO_ERR_PRIVDROP_MISSING` saying
 * what to install.
 */
export async function loadPrivdrop(): Promise<PrivdropModule> {
  const name = "@echo/privdrop";
  try {
    return (await import(name)) as PrivdropModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND") {
      throw new EchoError(
        ErrorCodes.PRIVDROP_MISSING,
        "--user/--group/--umask need the package @echo/privdrop: npm install @echo/privdrop",
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Loads `@echo/privdrop` and returns a function that drops privileges synchronously and returns
 * one line describing what was done. Call it before binding: a missing package then fails before
 * anything listens, and no `await` sits between "listening" and the drop, during which a
 * connection could be accepted and served as root.
 */
export async function preparePrivilegeDrop(privileges: PrivilegeArgs): Promise<() => string> {
  const privdrop = await loadPrivdrop();
  return () => {
    const result = privdrop.dropPrivileges(privileges);
    return privdrop.formatDropResult ? privdrop.formatDropResult(result) : JSON.stringify(result);
  };
}
