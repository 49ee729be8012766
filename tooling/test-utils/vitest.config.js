import { config } from "@echo/vitest-config";

export default config();
