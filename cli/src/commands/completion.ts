// `sluice completion bash`: a bash completion script generated from the command tree itself, so
// it always matches the commands and options of this version. (zsh: bashcompinit loads it.)
import type { Command } from 'commander';

interface Node {
  path: string;
  words: string[];
}

function nodes(cmd: Command, path: string[] = []): Node[] {
  const words = [...cmd.commands.map((c) => c.name()), ...cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x)), '--help'];
  return [{ path: path.join(' '), words }, ...cmd.commands.flatMap((c) => nodes(c, [...path, c.name()]))];
}

export function bashCompletion(program: Command): string {
  const globalFlags = program.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x));
  const cases = nodes(program)
    .map((n) => `    "${n.path}") words="${[...new Set([...n.words, ...(n.path ? globalFlags : [])])].join(' ')}" ;;`)
    .join('\n');
  return `# sluice bash completion: eval "$(sluice completion bash)" (zsh: autoload bashcompinit && bashcompinit first)
_sluice() {
  local cur path="" w i words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    case " $(_sluice_sub "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac
  done
  words="$(_sluice_words "$path")"
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur"))
}
_sluice_words() {
  local words=""
  case "$1" in
${cases}
  esac
  echo "$words"
}
_sluice_sub() {
  local w
  for w in $(_sluice_words "$1"); do case "$w" in -*) ;; *) echo -n "$w " ;; esac; done
}
complete -o default -F _sluice sluice
`;
}
