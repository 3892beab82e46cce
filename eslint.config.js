// ESLint for the browser code (the theme's scripts) and its Node unit tests.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["gallery/site/theme/assets/vendor/**"] },  // third-party bundles, vendored from npm (make vendor)
  js.configs.recommended,
  {
    files: ["gallery/site/theme/assets/**/*.js"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: globals.browser },
    rules: { "no-unused-vars": ["error", { argsIgnorePattern: "^_" }], eqeqeq: "error", "no-var": "error", "prefer-const": "error" },
  },
  {
    files: ["tests/js/**/*.js"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: globals.node },
  },
];
