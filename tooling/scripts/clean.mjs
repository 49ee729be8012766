// `pnpm run clean` in a package: removes what building and testing it wrote, so the next build
// starts from nothing. Run from the package's directory (the root's `clean` runs it in every
// package through turbo). prebuilds/ is not in the list: @echo/selector ships those in git.
import { rmSync } from "node:fs";
import { join } from "node:path";

/** Outputs of tsup (dist), node-gyp (build), turbo's task logs (.turbo) and vitest's report (.vitest). */
const generated = ["dist", "build", ".turbo", ".vitest", "coverage"];

for (const dir of generated) rmSync(join(process.cwd(), dir), { recursive: true, force: true });
