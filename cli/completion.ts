/**
 * Shell completion scripts generated from the commander program itself (its commands, options,
 * option choices and arguments), so a new command or flag is completed without anyone touching
 * this file. The scripts hold the tree as `case` tables and walk the command line the way
 * commander parses it: options may come anywhere, and an option that takes a value eats the
 * next word.
 */
import { Argument, Command, type Option } from "commander";

/** One option as completion sees it. */
export interface CompletionOption {
  /** Every spelling: `-o`, `--output`. */
  names: string[];
  description: string;
  /** Whether the option takes a value (the next word, or `--opt=value`). */
  takesValue: boolean;
  /** How its value completes. */
  value: ValueKind;
}

/** How a value completes: from a fixed list, as a file name, as a context name, or not at all. */
export type ValueKind = { kind: "choices"; choices: string[] } | { kind: "file" } | { kind: "context" } | { kind: "none" };

/** One command of the tree. */
export interface CompletionCommand {
  /** Names from the root, without the program's: `["station", "info"]`. */
  path: string[];
  description: string;
  subcommands: { name: string; description: string }[];
  /** Its own options (the root's are global: commander takes them anywhere). */
  options: CompletionOption[];
  /** How each positional argument completes, in order. */
  args: ValueKind[];
}

/** How a value named `<file>`, `<name>`… or limited to choices completes. */
function valueKind(placeholder: string, choices: readonly string[] | undefined): ValueKind {
  if (choices && choices.length > 0) return { kind: "choices", choices: [...choices] };
  if (/file|path|dir|samples|cert|key|ca\b/i.test(placeholder)) return { kind: "file" };
  if (/^context$/i.test(placeholder)) return { kind: "context" };
  return { kind: "none" };
}

function optionOf(o: Option): CompletionOption {
  const takesValue = o.required || o.optional;
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? "";
  const names = [o.short, o.long].filter((n): n is string => typeof n === "string");
  // `--context <name>` names a context.
  const kind = o.long === "--context" ? ({ kind: "context" } as const) : valueKind(placeholder, o.argChoices);
  return { names, description: o.description, takesValue, value: takesValue ? kind : { kind: "none" } };
}

function argOf(a: Argument, path: string[]): ValueKind {
  // `context use|show|delete <name>` names a context.
  if (path[0] === "context" && a.name() === "name" && path.length === 2 && path[1] !== "add") return { kind: "context" };
  return valueKind(a.name(), a.argChoices);
}

/** The program's commands, depth first from the root (`path: []`); hidden ones left out. */
export function completionTree(program: Command): CompletionCommand[] {
  const help = program.createHelp();
  const out: CompletionCommand[] = [];
  const visit = (cmd: Command, path: string[]) => {
    const subs = help.visibleCommands(cmd);
    out.push({
      path,
      description: cmd.description(),
      subcommands: subs.map((s) => ({ name: s.name(), description: s.description() })),
      options: help.visibleOptions(cmd).map(optionOf),
      args: cmd.registeredArguments.map((a) => argOf(a, path)),
    });
    // The implicit `help [command]` has no tree of its own.
    for (const s of subs) if (!(s.name() === "help" && !cmd.commands.includes(s))) visit(s, [...path, s.name()]);
  };
  visit(program, []);
  return out;
}

/** Single-quotes a word for bash and zsh. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** A `name:description` entry for zsh's `_describe` (colons in the name escaped). */
const described = (name: string, description: string) => `${name.replace(/:/g, "\\:")}:${description.replace(/\s+/g, " ").trim()}`;

/**
 * `case` tables shared by both shells, keyed by command path (`""` is the root, whose options
 * are global): subcommands, options, options that take a value, and how values complete.
 */
function tables(prefix: string, tree: CompletionCommand[], withDescriptions: boolean): string {
  const globalNames = new Set(tree[0]!.options.flatMap((o) => o.names));
  // A subcommand's own options, without those it shares with the root (its -h/--help).
  const own = (c: CompletionCommand) =>
    c.path.length === 0 ? c.options : c.options.filter((o) => !o.names.every((n) => globalNames.has(n)));
  const lines: string[] = [];
  const table = (name: string, doc: string, rows: [string, string][]) => {
    lines.push(`# ${doc}`, `${prefix}_${name}() {`, '  case "$1" in');
    for (const [key, body] of rows) lines.push(`    ${q(key)}) ${body} ;;`);
    lines.push("  esac", "}", "");
  };
  const print = (items: string[]) => `printf '%s\\n' ${items.map(q).join(" ")}`;
  const nonEmpty = (rows: [string, string[]][]): [string, string][] => rows.filter(([, v]) => v.length > 0).map(([k, v]) => [k, print(v)]);
  table(
    "subcommands",
    `the subcommands of a command path${withDescriptions ? ", as name:description" : ""}`,
    nonEmpty(tree.map((c) => [c.path.join(" "), c.subcommands.map((s) => (withDescriptions ? described(s.name, s.description) : s.name))])),
  );
  table(
    "options",
    `the options of a command path (the root's are global)${withDescriptions ? ", as name:description" : ""}`,
    nonEmpty(
      tree.map((c) => [c.path.join(" "), own(c).flatMap((o) => o.names.map((n) => (withDescriptions ? described(n, o.description) : n)))]),
    ),
  );
  table(
    "takes_value",
    "the options of a command path that take a value (they eat the next word)",
    nonEmpty(tree.map((c) => [c.path.join(" "), own(c).flatMap((o) => (o.takesValue ? o.names : []))])),
  );
  const body = (v: ValueKind): string | undefined => {
    switch (v.kind) {
      case "choices":
        return print(v.choices);
      case "file":
        return "echo @file";
      case "context":
        return "echo @context";
      case "none":
        return undefined;
    }
  };
  const values: [string, string][] = [];
  for (const c of tree) {
    const p = c.path.join(" ");
    for (const o of own(c)) {
      const b = body(o.value);
      if (b) for (const n of o.names) values.push([`${p}|${n}`, b]);
    }
    c.args.forEach((a, i) => {
      const b = body(a);
      if (b) values.push([`${p}|#${i}`, b]);
    });
  }
  table(
    "values",
    'how a value completes, keyed "<command path>|<option>" or "<command path>|#<argument index>": words, "@file" or "@context"',
    values,
  );
  lines.push(
    "# Whether the word $1 is one of the lines of $2 (the part before a ':' description).",
    `${prefix}_in() {`,
    "  local s",
    '  while IFS= read -r s; do [[ "${s%%:*}" == "$1" ]] && return 0; done <<< "$2"',
    "  return 1",
    "}",
    "",
  );
  return lines.join("\n");
}

/**
 * The command-line walk both scripts share (bash and zsh read it alike): sets `cmdpath` (the
 * command the words name), `npos` (positional arguments after it) and `pending` (the option
 * whose value the current word is, if any), from the words before the current one. Options are
 * looked up on the command and on the root (global options go anywhere).
 */
function walk(prefix: string, first: string, last: string, word: (i: string) => string): string {
  return `  cmdpath="" npos=0 pending=""
  local i w
  for ((i = ${first}; i < ${last}; i++)); do
    w=${word("i")}
    # bash splits \`--opt=value\` into three words (COMP_WORDBREAKS holds '='): the value is still pending.
    if [[ $w == "=" ]]; then continue; fi
    if [[ -n $pending ]]; then pending=""; continue; fi
    case $w in
      --|--*=*) continue ;;
      -*)
        if ${prefix}_in "$w" "$(${prefix}_takes_value "$cmdpath"; ${prefix}_takes_value "")"; then pending=$w; fi
        continue ;;
    esac
    if ${prefix}_in "$w" "$(${prefix}_subcommands "$cmdpath")"; then
      cmdpath="\${cmdpath:+$cmdpath }$w"
      npos=0
    else
      npos=$((npos + 1))
    fi
  done`;
}

/** How a value completes: the command's own table entry, else the root's (global options). */
function valueSpec(prefix: string): string {
  return `  spec=$(${prefix}_values "$1|$2")
  [[ -z $spec && $2 == -* ]] && spec=$(${prefix}_values "|$2")`;
}

/** The bash completion script for the program (`source <(junction completion bash)`). */
export function bashCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const tree = completionTree(program);
  return `# bash completion for ${name}, generated by '${name} completion bash'.
# Load it now:      source <(${name} completion bash)
# Or for good:      ${name} completion bash > ~/.local/share/bash-completion/completions/${name}

${tables(fn, tree, false)}
# Completes the value of option (or #argument) $2 of command path $1 from word $3 (a list,
# file names, or the contexts of the config file); $4 goes before each word (\`--opt=\`).
${fn}_complete_value() {
  local spec cur=$3 prefix=\${4:-}
${valueSpec(fn)}
  case $spec in
    "") return ;;
    @file) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    @context) mapfile -t COMPREPLY < <(compgen -P "$prefix" -W "$("\${COMP_WORDS[0]}" context list --quiet 2>/dev/null)" -- "$cur") ;;
    *) mapfile -t COMPREPLY < <(compgen -P "$prefix" -W "$spec" -- "$cur") ;;
  esac
}

${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmdpath npos pending
  COMPREPLY=()
${walk(fn, "1", "COMP_CWORD", (i) => `\${COMP_WORDS[${i}]}`)}
  if [[ -n $pending ]]; then
    ${fn}_complete_value "$cmdpath" "$pending" "$cur"
  elif [[ $cur == --*=* ]]; then
    ${fn}_complete_value "$cmdpath" "\${cur%%=*}" "\${cur#*=}" "\${cur%%=*}="
  elif [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(${fn}_options "$cmdpath"; [[ -n $cmdpath ]] && ${fn}_options "")" -- "$cur")
  else
    local subs
    subs=$(${fn}_subcommands "$cmdpath")
    if [[ -n $subs ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
    else
      ${fn}_complete_value "$cmdpath" "#$npos" "$cur"
    fi
  fi
}

complete -F ${fn} ${name}
`;
}

/** The zsh completion script for the program (in `$fpath` as `_junction`, or sourced after compinit). */
export function zshCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const tree = completionTree(program);
  return `#compdef ${name}
# zsh completion for ${name}, generated by '${name} completion zsh'.
# Load it now (after compinit):  source <(${name} completion zsh)
# Or for good:                   ${name} completion zsh > "\${fpath[1]}/${fn}"

${tables(fn, tree, true)}
# Offers the values of option (or #argument) $2 of command path $1 (a list, file names, or
# the contexts of the config file).
${fn}_complete_value() {
  local spec
${valueSpec(fn)}
  case $spec in
    "") return 1 ;;
    @file) _files ;;
    @context)
      local -a names
      names=(\${(f)"$(\${words[1]} context list --quiet 2>/dev/null)"})
      compadd -a names ;;
    *)
      local -a values
      values=(\${(f)spec})
      compadd -a values ;;
  esac
}

${fn}_main() {
  local cmdpath npos pending
${walk(fn, "2", "CURRENT", (i) => `\${words[${i}]}`)}
  local cur=\${words[CURRENT]}
  if [[ -n $pending ]]; then
    ${fn}_complete_value "$cmdpath" "$pending"
  elif [[ $cur == --*=* ]]; then
    compset -P '*='
    ${fn}_complete_value "$cmdpath" "\${cur%%=*}"
  elif [[ $cur == -* ]]; then
    local -a opts
    opts=(\${(f)"$(${fn}_options "$cmdpath"; [[ -n $cmdpath ]] && ${fn}_options "")"})
    _describe -t options option opts
  else
    local -a subs
    subs=(\${(f)"$(${fn}_subcommands "$cmdpath")"})
    if (( \${#subs} )); then
      _describe -t commands command subs
    else
      ${fn}_complete_value "$cmdpath" "#$npos"
    fi
  fi
}

if [[ \${funcstack[1]} == ${fn} ]]; then
  ${fn}_main "$@"
else
  compdef ${fn}_main ${name}
fi
`;
}

/** `junction completion bash|zsh`. */
export function registerCompletion(program: Command, out: (s: string) => void): void {
  program
    .command("completion")
    .description("print a shell completion script: source <(junction completion bash), or zsh")
    .addArgument(new Argument("<shell>", "bash or zsh").choices(["bash", "zsh"]))
    .action((shell: "bash" | "zsh") => {
      out(shell === "bash" ? bashCompletion(program) : zshCompletion(program));
    });
}
