import { app } from "@echo/tsup-config";
import { defineConfig } from "tsup";

export default defineConfig(app({ entry: ["src/tour.ts"] }));
