/**
 * The options of {@link dropPrivileges}, validated before anything is looked up or changed.
 * @module
 */
import { PrivdropError, PrivdropErrorCodes } from "./errors.js";
import { MAX_ID } from "./lookup.js";

/** A user or group: a name, or a numeric id (a number or an all-digits string). */
export type IdSpec = string | number;

/** Options of {@link dropPrivileges}. */
export interface DropOptions {
  /**
   * The user to become: a name or a numeric uid. Must not resolve to uid 0.
   * @default "nobody"
   */
  user?: IdSpec;
  /**
   * The group to become: a name or a numeric gid. Must not resolve to gid 0. When omitted:
   * `nogroup` if it exists (Debian), else `nobody` (Fedora), else the user's primary group.
   * @default "nogroup", then "nobody", then the user's primary group
   */
  group?: IdSpec;
  /**
   * The umask set after the drop, as a number (`0o007`) or an octal string (`"0007"`).
   * @default 0o007
   */
  umask?: number | string;
  /**
   * The supplementary groups after the drop: `"none"` clears them (`setgroups([])`),
   * `"initgroups"` sets the user's groups from the group database plus the target group
   * (`initgroups(3)`), an array sets exactly those groups (names or ids).
   * @default "none"
   */
  supplementaryGroups?: "none" | "initgroups" | readonly IdSpec[];
}

/** {@link DropOptions} after validation, defaults not yet resolved against the databases. */
export interface NormalizedDropOptions {
  user: IdSpec;
  group: IdSpec | undefined;
  umask: number;
  supplementaryGroups: "none" | "initgroups" | IdSpec[];
}

/** The default umask after a drop: no access for others, full access for owner and group. */
export const DEFAULT_UMASK = 0o007;

const knownOptions = new Set(["user", "group", "umask", "supplementaryGroups"]);

function invalid(message: string): PrivdropError {
  return new PrivdropError(PrivdropErrorCodes.INVALID_ARG, message);
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "symbol" || value === undefined)
    return String(value);
  return "a function";
}

/**
 * A name may hold anything but what would break a database line or a `getent` argument:
 * no colon, comma, whitespace, control character or leading dash.
 */
function checkIdSpec(label: string, value: unknown): IdSpec {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > MAX_ID)
      throw invalid(`${label} must be a name or an integer id from 0 to ${MAX_ID}, got ${show(value)}`);
    return value;
  }
  if (typeof value !== "string") throw invalid(`${label} must be a name or an integer id, got ${show(value)}`);
  if (value === "") throw invalid(`${label} must not be empty`);
  // eslint-disable-next-line no-control-regex
  if (value.startsWith("-") || /[:,\s\x00-\x1f\x7f]/.test(value) || value.length > 256) {
    throw invalid(
      `${label} must be a user or group name (no colon, comma, whitespace, control character or leading dash, at most 256 characters), got ${show(value)}`,
    );
  }
  if (/^\d+$/.test(value) && Number(value) > MAX_ID)
    throw invalid(`${label} must be a name or an integer id from 0 to ${MAX_ID}, got ${show(value)}`);
  return value;
}

function checkUmask(value: unknown): number {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > 0o777)
      throw invalid(`options.umask must be an integer from 0 to 0o777 (511), got ${show(value)}`);
    return value;
  }
  if (typeof value === "string") {
    if (!/^[0-7]{1,4}$/.test(value) || parseInt(value, 8) > 0o777)
      throw invalid(`options.umask must be an octal string such as "0007", got ${show(value)}`);
    return parseInt(value, 8);
  }
  throw invalid(`options.umask must be a number or an octal string, got ${show(value)}`);
}

/**
 * Validates {@link DropOptions}, filling in the defaults that need no look-up.
 * @throws {PrivdropError} `ECHO_ERR_INVALID_ARG` whose message names the option.
 */
export function normalizeDropOptions(options: unknown = {}): NormalizedDropOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw invalid(`options must be an object, got ${show(options)}`);
  for (const key of Object.keys(options)) {
    if (!knownOptions.has(key))
      throw invalid(`options.${key} is not an option of dropPrivileges (known: ${[...knownOptions].join(", ")})`);
  }
  const o = options as Record<string, unknown>;
  const user = o.user === undefined ? "nobody" : checkIdSpec("options.user", o.user);
  const group = o.group === undefined ? undefined : checkIdSpec("options.group", o.group);
  const umask = o.umask === undefined ? DEFAULT_UMASK : checkUmask(o.umask);
  let supplementaryGroups: NormalizedDropOptions["supplementaryGroups"] = "none";
  const sg = o.supplementaryGroups;
  if (sg !== undefined) {
    if (sg === "none" || sg === "initgroups") supplementaryGroups = sg;
    else if (Array.isArray(sg))
      supplementaryGroups = sg.map((g: unknown, i) => checkIdSpec(`options.supplementaryGroups[${i}]`, g));
    else
      throw invalid(
        `options.supplementaryGroups must be "none", "initgroups" or an array of group names or ids, got ${show(sg)}`,
      );
  }
  return { user, group, umask, supplementaryGroups };
}
