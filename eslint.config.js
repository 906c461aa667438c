import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import simpleImportSort from "eslint-plugin-simple-import-sort";
import tseslint from "typescript-eslint";

// import-x's TypeScript settings, less its legacy resolver (the resolver-next below replaces it).
const { "import-x/resolver": _legacyResolver, ...typescriptSettings } = importX.flatConfigs.typescript.settings;

export default tseslint.config(
  { ignores: ["build/", "dist/", "node_modules/", "python/", "tests/fixtures/human/files/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { "import-x": importX, "simple-import-sort": simpleImportSort },
    settings: {
      // Parses and resolves the sources' `./x.js` specifiers to their .ts files, as tsc does.
      ...typescriptSettings,
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      // Imports sorted (auto-fixed by `npm run format`), and no module importing itself round a cycle.
      "simple-import-sort/imports": "error",
      "simple-import-sort/exports": "error",
      "import-x/no-cycle": "error",
    },
  },
);
