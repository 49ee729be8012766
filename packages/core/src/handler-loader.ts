/**
 * Finding and loading handler modules by name, path or URL.
 * @module
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { HandlerLoadError } from "./errors.js";
import type { Handler, HandlerContext, HandlerExport } from "./handler.js";

/** The names of the handlers that ship with `@echo/core`. */
export const builtinHandlers = ["echo", "upper", "whoami", "http-hello"] as const;

/** One of {@link builtinHandlers}. */
export type BuiltinHandlerName = (typeof builtinHandlers)[number];

function builtinUrl(name: string): string {
  // The built-in handlers are built as their own files next to this module (dist/handlers/*.js).
  const url = new URL(`./handlers/${name}.js`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    throw new HandlerLoadError(name, `built-in handler file ${fileURLToPath(url)} is missing (is @echo/core built?)`);
  }
  return url.href;
}

/**
 * Turns a handler specifier into a `file:` URL string that any thread or process can import.
 *
 * Accepted: a built-in name (`echo`, `upper`, `whoami`, `http-hello`), a `file:` URL, or a path
 * (absolute, or relative to `cwd`).
 * @throws {HandlerLoadError} the specifier names no built-in and no existing file.
 */
export function resolveHandler(specifier: string | URL, cwd: string = process.cwd()): string {
  if (specifier instanceof URL) specifier = specifier.href;
  if (typeof specifier !== "string" || specifier.length === 0) {
    throw new HandlerLoadError(String(specifier), "options.handler must be a non-empty string or URL");
  }
  if ((builtinHandlers as readonly string[]).includes(specifier)) return builtinUrl(specifier);
  let path: string;
  if (specifier.startsWith("file:")) {
    path = fileURLToPath(specifier);
  } else if (isAbsolute(specifier) || specifier.startsWith(".") || /[\\/]|\.[cm]?js$/.test(specifier)) {
    path = resolve(cwd, specifier);
  } else {
    throw new HandlerLoadError(
      specifier,
      `not a built-in handler (${builtinHandlers.join(", ")}) nor a path; give a file path like ./handler.js`,
    );
  }
  if (!existsSync(path)) throw new HandlerLoadError(specifier, `no such file ${path}`);
  return pathToFileURL(path).href;
}

function isHandler(value: unknown): value is Handler {
  return typeof value === "object" && value !== null && typeof (value as Handler).onData === "function";
}

/** Checks that a value is a usable handler; throws a {@link HandlerLoadError} naming `label` if not. */
export function assertHandler(value: unknown, label: string): Handler {
  if (!isHandler(value)) {
    throw new HandlerLoadError(label, "the module's handler has no onData(conn, data) function");
  }
  for (const key of ["onConnection", "onEnd", "onDrain", "onClose"] as const) {
    const cb = (value as unknown as Record<string, unknown>)[key];
    if (cb !== undefined && typeof cb !== "function") {
      throw new HandlerLoadError(label, `handler.${key} must be a function`);
    }
  }
  return value;
}

/**
 * Builds a handler from an export: calls a factory with `context`, or checks an object.
 * @throws {HandlerLoadError} the export is not a handler, or the factory threw.
 */
export async function instantiateHandler(
  exported: HandlerExport,
  context: HandlerContext,
  label: string,
): Promise<Handler> {
  if (typeof exported === "function") {
    let built: unknown;
    try {
      built = await exported(context);
    } catch (error) {
      throw new HandlerLoadError(label, `the handler factory threw: ${(error as Error)?.message ?? error}`, {
        cause: error,
      });
    }
    return assertHandler(built, label);
  }
  return assertHandler(exported, label);
}

/**
 * Resolves, imports and instantiates a handler module.
 *
 * The module's default export (or named export `handler`) must be a {@link Handler} or a
 * factory returning one.
 * @param cwd - where relative paths start. @default process.cwd()
 * @param label - how errors name the handler (the name the user gave, when `specifier` is the
 *   `file:` URL {@link resolveHandler} made of it). @default String(specifier)
 * @throws {HandlerLoadError} not found, failed to import, or exports no handler.
 */
export async function loadHandler(
  specifier: string | URL,
  context: HandlerContext,
  cwd?: string,
  label: string = String(specifier),
): Promise<Handler> {
  const url = resolveHandler(specifier, cwd);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new HandlerLoadError(label, `importing ${url} failed: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  const exported = (mod.default ?? mod.handler) as HandlerExport | undefined;
  if (exported === undefined) {
    throw new HandlerLoadError(label, "the module has no default export and no export named handler");
  }
  return instantiateHandler(exported, context, label);
}
