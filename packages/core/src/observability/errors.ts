/**
 * The typed error of a bad `--metrics` value (or `metrics` option).
 * @module
 */
import { InvalidArgumentError } from "../errors.js";

/**
 * A `--metrics` value (or `metrics` option) that is not `PORT`, `HOST:PORT` or `[IPV6]:PORT`.
 *
 * Its `code` is `ECHO_ERR_INVALID_ARG`, the code of every bad option: code that already matches
 * bad options keeps working, and `name` (or `instanceof`) tells this one apart. A CLI turns it
 * into a usage error (exit 2) like any other bad flag.
 */
export class InvalidMetricsAddressError extends InvalidArgumentError {
  /** The value as it was given. */
  readonly value: unknown;

  /**
   * @param option - the option's name as the user wrote it: `--metrics` or `options.metrics`.
   * @param value - the value given.
   * @param reason - what is wrong with it, when more can be said than "expected …".
   */
  constructor(option: string, value: unknown, reason?: string) {
    const got =
      typeof value === "string" ? JSON.stringify(value) : typeof value === "number" ? String(value) : typeof value;
    super(
      `${option} must be PORT, HOST:PORT or [IPV6]:PORT (for example 9464, 127.0.0.1:9464 or [::1]:9464), got ${got}` +
        (reason === undefined ? "" : `: ${reason}`),
    );
    this.name = "InvalidMetricsAddressError";
    this.value = value;
  }
}
