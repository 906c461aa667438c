import { Environment, Interpreter, type Template } from "@huggingface/jinja";

type Program = Template["parsed"];
type Statement = Program["body"][number];
type RuntimeValue = NonNullable<ReturnType<Environment["lookupVariable"]>>;

interface ForNode {
  type: "For";
  iterable: { type: string; value?: unknown };
}

interface IfNode {
  type: "If";
  body: Statement[];
  alternate: Statement[];
}

/** What a folded loop may read from outside itself: the tools, and names whose value never changes. */
const CONSTANTS: Record<string, unknown> = {
  true: true,
  false: false,
  none: null,
  True: true,
  False: false,
  None: null,
};

/**
 * The template's program for one toolset, with each top-level `{% for … in tools %}` loop (also
 * inside `{% if %}` blocks) replaced by its output when that output depends on the tools alone.
 * Rendering the tools is most of a render's cost and the same on every turn. A loop is folded
 * only when rendering it read nothing from outside itself but `tools` and constants (no messages,
 * no `strftime_now`, no namespace of the caller); its `set`s are local to the loop.
 */
export function foldToolLoops(program: Program, tools: RuntimeValue): Program {
  const fold = (statements: Statement[]): Statement[] =>
    statements.map((s) => {
      if (s.type === "For" && isToolsLoop(s as unknown as ForNode)) return renderAlone(s, tools) ?? s;
      if (s.type === "If") {
        const node = s as unknown as IfNode;
        return { ...node, body: fold(node.body), alternate: fold(node.alternate) } as unknown as Statement;
      }
      return s;
    });
  return { ...program, body: fold(program.body) } as Program;
}

const isToolsLoop = (node: ForNode) => node.iterable.type === "Identifier" && node.iterable.value === "tools";

/** The loop's output as a string literal, or undefined when it read anything but the tools and constants. */
function renderAlone(loop: Statement, tools: RuntimeValue): Statement | undefined {
  const root = new Environment();
  for (const [name, value] of Object.entries(CONSTANTS)) root.set(name, value);
  root.variables.set("tools", tools);
  // Names the loop's own scopes do not hold are resolved here (a private method of the runtime).
  const hook = root as unknown as { resolve(name: string): Environment };
  const resolve = hook.resolve.bind(root);
  const outside = new Set<string>();
  hook.resolve = (name: string) => {
    outside.add(name);
    return resolve(name);
  };
  let text: string;
  try {
    text = String((new Interpreter(root).run(loopProgram(loop)) as { value: unknown }).value);
  } catch {
    return undefined;
  }
  for (const name of outside) if (name !== "tools" && !(name in CONSTANTS)) return undefined;
  return { type: "StringLiteral", value: text } as unknown as Statement;
}

const loopProgram = (loop: Statement) => ({ type: "Program", body: [loop] }) as unknown as Program;
