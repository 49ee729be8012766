import base from "@echo/eslint-config/base";

// The page's plain ES modules run in the browser.
const browser = {
  document: "readonly",
  window: "readonly",
  fetch: "readonly",
  FormData: "readonly",
  EventSource: "readonly",
  ResizeObserver: "readonly",
};

export default [...base, { files: ["web/**/*.js"], languageOptions: { globals: browser } }];
