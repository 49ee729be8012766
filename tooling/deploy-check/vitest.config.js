import { config } from "@echo/vitest-config";

export default config({ test: { globalSetup: ["test/global-setup.ts"] } });
