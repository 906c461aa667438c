/**
 * node-llama-cpp, loaded on first use. `webpackIgnore` keeps ncc from turning the external module
 * into a static import at the top of dist/cli (which it does even for `import()`), so the commands
 * that load no model (inspect, tools import, verify-bundle --tools, the action's drift mode) start
 * where node-llama-cpp is not installed.
 */
export const loadLlamaCpp = (): Promise<typeof import("node-llama-cpp")> =>
  import(/* webpackIgnore: true */ "node-llama-cpp");
