/**
 * The `--log-format` values. Apart from the JSON logger so that checking a flag loads no `pino`.
 * @module
 */
import { InvalidArgumentError } from "../errors.js";

/** The log formats every server CLI accepts (`--log-format`). Text is the default. */
export const logFormats = ["text", "json"] as const;

/** One of {@link logFormats}. */
export type LogFormat = (typeof logFormats)[number];

/**
 * Checks a `--log-format` value (or `logFormat` option).
 * @param option - the option's name for the message. @default "--log-format"
 * @throws {InvalidArgumentError} not `text` or `json`.
 */
export function checkLogFormat(value: unknown, option = "--log-format"): LogFormat {
  if (value === "text" || value === "json") return value;
  throw new InvalidArgumentError(
    `${option} must be "text" or "json", got ${typeof value === "string" ? JSON.stringify(value) : typeof value}`,
  );
}
