// Shared Prettier options for the whole repository (the root package.json points here). Prettier's
// defaults otherwise: double quotes, semicolons, trailing commas, parentheses around arrow parameters.

/** @type {import("prettier").Config} */
const config = {
  // Wide enough for a one-line validation message or test case, narrow enough to read side by side.
  printWidth: 120,
};

export default config;
