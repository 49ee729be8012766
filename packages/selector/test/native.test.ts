import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { statsKeys } from "@echo/core/model-kit";
// Internal: loading the addon is not part of the public API.
import { loadNative, loadNativeFile, type NativeBinding } from "../src/internal/native.js";
import { Event, Kind, nativeEnums, SelOp, Stat } from "../src/internal/protocol.js";

const root = fileURLToPath(new URL("..", import.meta.url));

function smoke(binding: NativeBinding): void {
  expect(binding.FD_SETSIZE).toBe(1024);
  // Every named number of src/native/protocol.h, by name and value, is the one protocol.ts uses.
  expect(binding.constants).toEqual(nativeEnums);
  expect(binding.EAGAIN).toBe(osConstants.errno.EAGAIN);
  const [r, w] = binding.pipe();
  const sel = binding.selCreate(Kind.EPOLL);
  binding.selCtl(sel, SelOp.REGISTER, r, Event.READ);
  const out = new Int32Array(2);
  expect(binding.selWait(sel, 0, out)).toBe(0);
  binding.selClose(sel);
  binding.close(r);
  binding.close(w);
}

describe("the addon", () => {
  it("protocol.ts's stats slots follow @echo/core's statsKeys", () => {
    const slots = statsKeys.map((key) => key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase());
    expect(Object.keys(Stat)).toEqual([...slots, "COUNT"]);
    expect(Object.values(Stat)).toEqual([...statsKeys.keys(), statsKeys.length]);
  });

  it("refuses an operation code it does not know with a TypeError, not a crash", () => {
    const binding = loadNative(root);
    const [r, w] = binding.pipe();
    const sel = binding.selCreate(Kind.POLL);
    try {
      expect(() => binding.selCtl(sel, 7, r, Event.READ)).toThrow(
        expect.objectContaining({ name: "TypeError", code: "ECHO_ERR_INVALID_ARG" }),
      );
      expect(() => binding.selWait(sel, 0, new Int32Array(1))).toThrow(
        expect.objectContaining({ code: "ECHO_ERR_INVALID_ARG" }),
      );
      expect(() => binding.shutdown(r, 7)).toThrow(expect.objectContaining({ code: "EINVAL", syscall: "shutdown" }));
    } finally {
      binding.selClose(sel);
      binding.close(r);
      binding.close(w);
    }
  });

  it("the local build made from source by node-gyp (build:native) loads", () => {
    // `pnpm build` runs node-gyp before tsup, so in CI this binary was compiled from source.
    const file = join(root, "build", "Release", "echo_selector.node");
    const binding = loadNativeFile(file);
    expect(typeof binding.loopCreate).toBe("function");
    smoke(binding);
  });

  it("the prebuilt binary shipped in prebuilds/linux-x64 loads", () => {
    const dir = join(root, "prebuilds", `${process.platform}-${process.arch}`);
    const files = readdirSync(dir).filter((f) => f.endsWith(".node"));
    expect(files.length).toBeGreaterThan(0);
    const binding = loadNativeFile(join(dir, files[0]!));
    expect(typeof binding.loopCreate).toBe("function");
    smoke(binding);
  });

  it("node-gyp-build finds a binary in the package", () => {
    expect(typeof loadNative(root).listen).toBe("function");
  });

  it("throws ECHO_ERR_NATIVE_UNAVAILABLE saying how to build when neither is there", () => {
    const empty = mkdtempSync(join(tmpdir(), "echo-native-"));
    try {
      expect(() => loadNative(empty)).toThrow(
        expect.objectContaining({ code: "ECHO_ERR_NATIVE_UNAVAILABLE", name: "NativeUnavailableError" }),
      );
      expect(() => loadNative(empty)).toThrow(/npm run build:native/);
      expect(() => loadNativeFile(join(empty, "missing.node"))).toThrow(
        expect.objectContaining({ code: "ECHO_ERR_NATIVE_UNAVAILABLE" }),
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
