/**
 * What the web view's requests may ask for, validated up front: a bad value is an
 * `InvalidArgumentError` (answered 400) whose message names the field and says what is allowed.
 * @module
 */
import { InvalidArgumentError } from "@echo/core";

/** The models the web view can run. */
export const webModels = ["async", "threaded", "prefork", "selector"] as const;

/** Largest thread or worker count the page may ask for (the demo runs on small machines). */
export const MAX_WORKERS = 16;
/** Largest load burst: connections open at once, and seconds. */
export const MAX_LOAD_CONNECTIONS = 1000;
export const MAX_LOAD_SECONDS = 120;
/** Largest number of idle connections for the selector comparison. */
export const MAX_IDLE = 5000;

/** A model and its settings, as the page picks them. */
export type ModelSpec =
  | { model: "async" }
  | { model: "threaded"; threads: number }
  | { model: "prefork"; workers: number; schedule: "os" | "round-robin" }
  | { model: "selector"; selector: "epoll" | "poll" | "select" };

/** A load burst: `connections` open at once for `seconds`. */
export interface LoadSpec {
  connections: number;
  seconds: number;
}

type Body = Record<string, unknown>;

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/** Accepts an integer or a string of digits (form fields arrive as strings). */
function integer(body: Body, field: string, min: number, max: number, fallback?: number): number {
  const raw = body[field];
  if (raw === undefined && fallback !== undefined) return fallback;
  const value = typeof raw === "string" && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${field} must be an integer from ${min} to ${max}, got ${show(raw)}`);
  }
  return value;
}

function oneOf<T extends string>(body: Body, field: string, allowed: readonly T[], fallback: T): T {
  const raw = body[field] ?? fallback;
  if (!allowed.includes(raw as T)) {
    throw new InvalidArgumentError(`${field} must be one of ${allowed.join(", ")}, got ${show(body[field])}`);
  }
  return raw as T;
}

/** Checks that a parsed JSON body is an object. */
export function asBody(value: unknown): Body {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      `the request body must be a JSON object, got ${Array.isArray(value) ? "an array" : show(value)}`,
    );
  }
  return value as Body;
}

/** Reads `{ model, threads | workers, schedule | selector }`. */
export function parseModelSpec(body: Body): ModelSpec {
  const model = body.model;
  if (typeof model !== "string" || !(webModels as readonly string[]).includes(model)) {
    throw new InvalidArgumentError(`unknown model ${show(model)}: choose one of ${webModels.join(", ")}`);
  }
  switch (model as (typeof webModels)[number]) {
    case "async":
      return { model: "async" };
    case "threaded":
      return { model: "threaded", threads: integer(body, "threads", 1, MAX_WORKERS, 2) };
    case "prefork":
      return {
        model: "prefork",
        workers: integer(body, "workers", 1, MAX_WORKERS, 3),
        schedule: oneOf(body, "schedule", ["os", "round-robin"] as const, "os"),
      };
    case "selector":
      return { model: "selector", selector: oneOf(body, "selector", ["epoll", "poll", "select"] as const, "epoll") };
  }
}

/** Reads `{ connections, seconds }`. */
export function parseLoadSpec(body: Body): LoadSpec {
  return {
    connections: integer(body, "connections", 1, MAX_LOAD_CONNECTIONS, 20),
    seconds: integer(body, "seconds", 1, MAX_LOAD_SECONDS, 30),
  };
}

/** Reads `{ pid }` (optional: the first worker when absent). */
export function parsePid(body: Body): number | undefined {
  return body.pid === undefined ? undefined : integer(body, "pid", 1, 2 ** 22);
}

/** Reads `{ idle }` for the selector comparison. */
export function parseIdle(body: Body): number {
  return integer(body, "idle", 1, MAX_IDLE, 2000);
}
