import base from "@echo/eslint-config/base";

export default base;
