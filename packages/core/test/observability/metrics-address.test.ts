import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors.js";
import { InvalidMetricsAddressError } from "../../src/observability/errors.js";
import { parseMetricsAddress } from "../../src/observability/metrics-address.js";

const EXPECTED =
  "--metrics must be PORT, HOST:PORT or [IPV6]:PORT (for example 9464, 127.0.0.1:9464 or [::1]:9464), got";

describe("parseMetricsAddress", () => {
  it.each([
    ["9464", { host: "127.0.0.1", port: 9464 }],
    ["0", { host: "127.0.0.1", port: 0 }],
    ["127.0.0.1:9464", { host: "127.0.0.1", port: 9464 }],
    ["0.0.0.0:9464", { host: "0.0.0.0", port: 9464 }],
    ["localhost:65535", { host: "localhost", port: 65535 }],
    ["metrics-1.example.internal:80", { host: "metrics-1.example.internal", port: 80 }],
    ["[::1]:9464", { host: "::1", port: 9464 }],
    ["[::]:9464", { host: "::", port: 9464 }],
    [9464, { host: "127.0.0.1", port: 9464 }],
  ])("%j → %j", (input, expected) => {
    expect(parseMetricsAddress(input)).toEqual(expected);
  });

  it.each([
    ["", '"": the value is empty'],
    ["abc", '"abc": no port'],
    ["65536", '"65536": the port must be an integer from 0 to 65535, got "65536"'],
    ["127.0.0.1:", '"127.0.0.1:": the port must be an integer from 0 to 65535, got ""'],
    ["127.0.0.1:http", '"127.0.0.1:http": the port must be an integer from 0 to 65535, got "http"'],
    ["127.0.0.1:-1", '"127.0.0.1:-1": the port must be an integer from 0 to 65535, got "-1"'],
    [":9464", '":9464": no host before the colon (give 0.0.0.0:PORT to listen on every interface)'],
    ["::1:9464", '"::1:9464": put an IPv6 address in brackets, as in [::1]:9464'],
    ["[::1]", '"[::1]": a bracketed IPv6 address must be followed by :PORT'],
    ["[127.0.0.1]:9464", '"[127.0.0.1]:9464": "127.0.0.1" is not an IPv6 address'],
    ["999.0.0.1:9464", '"999.0.0.1:9464": "999.0.0.1" is neither an IPv4 address nor a host name'],
    ["bad_host:9464", '"bad_host:9464": "bad_host" is neither an IPv4 address nor a host name'],
    [" 9464", '" 9464": no port'],
    [-1, "-1: the port must be an integer from 0 to 65535"],
    [true, "boolean"],
  ])("%j is a typed error that says what was expected", (input, detail) => {
    let thrown: unknown;
    try {
      parseMetricsAddress(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidMetricsAddressError);
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect(thrown).toMatchObject({
      name: "InvalidMetricsAddressError",
      code: "ECHO_ERR_INVALID_ARG",
      value: input,
      message: `${EXPECTED} ${detail}`,
    });
  });

  it("names the option it was given", () => {
    expect(() => parseMetricsAddress("x", "options.metrics")).toThrow(
      /^options\.metrics must be PORT, HOST:PORT or \[IPV6\]:PORT/,
    );
  });
});
