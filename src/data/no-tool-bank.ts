import type { McpTool } from "../core/toolset.js";
import type { Rng } from "./rng.js";
import { withFaker } from "./schema-args.js";

/** A question no tool answers, with its direct answer. */
export interface DirectQA {
  question: string;
  answer: string;
}

interface Family {
  /** Tools whose name or description matches this would answer the question, so the family is skipped. */
  conflicts: RegExp;
  make(rng: Rng): DirectQA;
}

const SMALL_TALK: Array<[string, string]> = [
  ["Hi there!", "Hello! How can I help you today?"],
  ["Good morning, how are you?", "Good morning! I'm doing well, thanks. What can I do for you?"],
  ["Thanks, that's all for now.", "You're welcome! Let me know if you need anything else."],
  ["What can you do?", "I can answer questions directly and use the tools I'm connected to when a request needs them. What would you like to do?"],
  ["Who are you?", "I'm an assistant that can answer questions and call tools on your behalf."],
  ["Tell me a joke.", "Why did the developer go broke? Because they used up all their cache."],
  ["Can you say hello in French?", "Hello in French is \"Bonjour\"."],
  ["Goodbye!", "Goodbye! Have a great day."],
  ["What's the opposite of hot?", "The opposite of hot is cold."],
  ["Is a tomato a fruit?", "Botanically, yes: a tomato is a fruit, though it is usually cooked and eaten as a vegetable."],
  ["How many days are in a week?", "There are 7 days in a week."],
  ["What color do you get by mixing blue and yellow?", "Mixing blue and yellow gives green."],
];

const UNITS: Array<[string, string, number]> = [
  ["minutes", "hours", 60],
  ["seconds", "minutes", 60],
  ["hours", "days", 24],
  ["days", "weeks", 7],
  ["centimeters", "meters", 100],
  ["grams", "kilograms", 1000],
  ["months", "years", 12],
];

const TIPS: Array<[string, string]> = [
  ["writing a clear email", "Put the one thing you need from the reader in the first sentence."],
  ["staying focused", "Work in short blocks with one task each, and silence notifications while you do."],
  ["naming variables", "Name a variable after what it holds, not after its type."],
  ["learning a language", "Practise a little every day rather than a lot once a week."],
  ["running a meeting", "Share the agenda beforehand and end with who does what by when."],
  ["sleeping better", "Keep the same bedtime every day and avoid screens in the last hour."],
  ["writing a commit message", "Say what changed and why in one short line, details below."],
  ["public speaking", "Rehearse out loud, and open with the point you most want people to remember."],
];

const FAMILIES: Family[] = [
  {
    conflicts: /(sum|add|plus|math|arithmetic|calculat|compute)/i,
    make(rng) {
      const a = rng.int(2, 999);
      const b = rng.int(2, 999);
      const op = rng.pick([
        ["plus", a + b],
        ["minus", a - b],
        ["times", a * b],
      ] as const);
      const q = rng.pick([`What is ${a} ${op[0]} ${b}?`, `Quick math: ${a} ${op[0]} ${b}?`, `How much is ${a} ${op[0]} ${b}?`]);
      return { question: q, answer: `${a} ${op[0]} ${b} is ${op[1]}.` };
    },
  },
  {
    conflicts: /(convert|conversion|unit)/i,
    make(rng) {
      const [small, large, factor] = rng.pick(UNITS);
      const n = rng.int(2, 250);
      return { question: `How many ${small} are in ${n} ${large}?`, answer: `There are ${n * factor} ${small} in ${n} ${large}.` };
    },
  },
  {
    conflicts: /(revers|spell|string|text)/i,
    make(rng) {
      const word = withFaker(rng, (f) => f.word.noun()).toLowerCase();
      return rng.bool()
        ? { question: `Spell "${word}" backwards.`, answer: `"${word}" backwards is "${[...word].reverse().join("")}".` }
        : { question: `How many letters are in the word "${word}"?`, answer: `"${word}" has ${[...word].length} letters.` };
    },
  },
  {
    conflicts: /(upper|case|format)/i,
    make(rng) {
      const phrase = withFaker(rng, (f) => f.word.words(rng.int(2, 4))).toLowerCase();
      return { question: `Write "${phrase}" in capital letters.`, answer: `"${phrase.toUpperCase()}"` };
    },
  },
  {
    conflicts: /(tip|advice)/i,
    make(rng) {
      const [topic, tip] = rng.pick(TIPS);
      const extra = withFaker(rng, (f) => f.word.adjective());
      return { question: `Give me one ${extra} tip for ${topic}.`, answer: tip };
    },
  },
  {
    conflicts: /(chat|greet|joke)/i,
    make(rng) {
      const [question, answer] = rng.pick(SMALL_TALK);
      return { question, answer };
    },
  },
];

/** The families that no tool of this toolset could answer. */
export function familiesFor(tools: readonly McpTool[]): number[] {
  const text = tools.map((t) => `${t.name} ${t.description ?? ""}`).join(" ");
  const usable = FAMILIES.map((f, i) => (f.conflicts.test(text) ? -1 : i)).filter((i) => i >= 0);
  return usable.length > 0 ? usable : [FAMILIES.length - 1];
}

/** A question from one family (by index), and its answer. */
export function drawQuestion(family: number, rng: Rng): DirectQA {
  return FAMILIES[family % FAMILIES.length]!.make(rng);
}
