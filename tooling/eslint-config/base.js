// Shared flat config: eslint's recommended rules plus typescript-eslint's type-checked ones, for
// every package. TypeScript files are linted with types from the package's own tsconfig.json,
// found by the project service, so rules such as no-floating-promises see what a call returns.
// JavaScript (config files, .mjs scripts and fixtures) is not in any tsconfig: it gets the
// syntactic rules only.
import js from "@eslint/js";
import prettier from "eslint-config-prettier/flat";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/build/**", "**/prebuilds/**", "**/node_modules/**", "**/.turbo/**", "**/.vitest/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        setImmediate: "readonly",
        queueMicrotask: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
        performance: "readonly",
        structuredClone: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
      },
      parserOptions: {
        projectService: true,
        // Each package runs `eslint .` from its own directory, next to its tsconfig.json.
        tsconfigRootDir: process.cwd(),
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-constant-condition": ["error", { checkLoops: false }],
      // Re-rejecting a caught error (typed `unknown`) is rethrowing it, which only-throw-error allows too.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
    },
  },
  {
    files: ["**/test/**/*.ts"],
    rules: {
      // vitest types its asymmetric matchers (expect.stringMatching, expect.any, …) as `any` so that
      // they fit any property; every toMatchObject({ message: expect.stringMatching(…) }) would trip
      // this rule. Reading an `any` (member access, argument, call, return) is still an error.
      "@typescript-eslint/no-unsafe-assignment": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  // Last: turns off every rule about layout, which Prettier owns (`npm run format`).
  prettier,
);
