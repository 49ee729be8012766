// Builds the addon from source with node-gyp (`build:native`), or the prebuilt binary with
// prebuildify (`prebuildify`). Both compile against the headers of the Node that runs this script
// when that Node ships them (`<prefix>/include/node`), so no header download is needed offline.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const prebuild = process.argv.includes("--prebuild");

const prefix = dirname(dirname(process.execPath));
const localHeaders = existsSync(join(prefix, "include", "node", "node_api.h"));
const env = { ...process.env };
if (localHeaders && !env.npm_config_nodedir) env.npm_config_nodedir = prefix;

const bin = (pkg, name) => join(dirname(require.resolve(`${pkg}/package.json`)), name);
const [script, args] = prebuild
  ? [bin("prebuildify", "bin.js"), ["--napi", "--strip", "--target", `node@${process.versions.node}`]]
  : [bin("node-gyp", "bin/node-gyp.js"), ["rebuild", ...(localHeaders ? [`--nodedir=${prefix}`] : [])]];

console.log(
  `[echo-selector] ${prebuild ? "prebuildify" : "node-gyp"} ${args.join(" ")}${localHeaders ? ` (headers from ${prefix}/include/node)` : ""}`,
);
const result = spawnSync(process.execPath, [script, ...args], { cwd: root, stdio: "inherit", env });
if (result.status !== 0) {
  console.error(
    `[echo-selector] native build failed (status ${result.status ?? result.signal}); a C compiler, make and python3 are needed`,
  );
  process.exit(result.status ?? 1);
}
