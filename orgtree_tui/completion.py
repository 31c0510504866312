"""`orgtree-tui completion bash|zsh|fish`: the completion script, written from the parser.

What to complete (commands, options, an option's choices, files) comes from the parser
(`completion_spec`); profiles are read when completing, by the shell, from the files botocore
reads: the config file (`AWS_CONFIG_FILE`, default ~/.aws/config: `[default]`, `[profile
NAME]`) and the credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default ~/.aws/credentials:
`[NAME]`). No Python starts at a tab, and a profile added a minute ago is there.
"""

from __future__ import annotations

import argparse
import re

from orgtree_tui.completion_spec import Command, Option, commands_of

SHELLS = ("bash", "zsh", "fish")

# `[profile NAME]` and `[default]` in the config file; `[NAME]` in the credentials file.
# POSIX sed, run by every shell alike; `[^][:space:]]` is "neither ] nor a space".
_SED_CONFIG = (
    r"-e 's/^[[:space:]]*\[[[:space:]]*profile[[:space:]]\{1,\}\([^]]*[^][:space:]]\)"
    r"[[:space:]]*\].*$/\1/p'"
    r" -e 's/^[[:space:]]*\[[[:space:]]*default[[:space:]]*\].*$/default/p'"
)
_SED_CREDENTIALS = r"-e 's/^[[:space:]]*\[[[:space:]]*\([^]]*[^][:space:]]\)[[:space:]]*\].*$/\1/p'"


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for `shell` (one of SHELLS) and the parser's program."""
    writers = {"bash": _bash, "zsh": _zsh, "fish": _fish}
    return writers[shell](parser.prog, commands_of(parser))


def _function(prog: str) -> str:
    return "_" + re.sub(r"\W", "_", prog)


def _valued_flags(command: Command) -> list[str]:
    return [f for o in command.options if o.takes for f in o.flags]


def _posix_profiles(fn: str) -> str:
    """The profile lister for bash and zsh (both read this syntax)."""
    return f"""{fn}_profiles() {{
    local config="${{AWS_CONFIG_FILE:-$HOME/.aws/config}}"
    local creds="${{AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}}"
    config="${{config/#\\~/$HOME}}" creds="${{creds/#\\~/$HOME}}"
    {{
        [ -r "$config" ] && sed -n {_SED_CONFIG} "$config"
        [ -r "$creds" ] && sed -n {_SED_CREDENTIALS} "$creds"
    }} 2>/dev/null | sort -u
}}
"""


def _value_cases(commands: list[Command], answer: dict[str, str], fn: str) -> list[str]:
    """`case "$cmd:$prev"` arms: what follows an option that takes a value."""
    arms = []
    for command in commands:
        for option in command.options:
            if option.takes is None:
                continue
            pattern = "|".join(f"{command.name}:{flag}" for flag in option.flags)
            if option.takes == "choices":
                body = answer["choices"].format(words=" ".join(option.choices))
            else:
                body = answer[option.takes].format(fn=fn)
            arms.append(f"        {pattern}) {body} ;;")
    return arms


def _scan(commands: list[Command], indent: str, step: str, close: str) -> str:
    """The loop that finds the command word, stepping over the values of options."""
    top = commands[0]
    valued = "|".join(_valued_flags(top)) or "--"
    names = "|".join(c.name for c in commands[1:]) or "--"
    return (
        f'{indent}case "$w" in\n'
        f"{indent}    {valued}) {step} ;;\n"
        f'{indent}    {names}) cmd="$w"; break ;;\n'
        f"{indent}{close}\n"
    )


def _bash(prog: str, commands: list[Command]) -> str:
    fn = _function(prog)
    answer = {
        "profile": 'local IFS=$\'\\n\'; COMPREPLY=($(compgen -W "$({fn}_profiles)" -- "$cur"));'
        " return",
        "choices": 'COMPREPLY=($(compgen -W "{words}" -- "$cur")); return',
        "file": 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return',
        "text": "COMPREPLY=(); return",
    }
    per_command = [
        f'        "{c.name}") opts="{" ".join(f for o in c.options for f in o.flags)}";'
        f' words="{" ".join(c.words)}"; files={int(c.files)} ;;'
        for c in commands
    ]
    return f"""# bash completion for {prog}, written by `{prog} completion bash` from its parser.
# Load it with: source <({prog} completion bash)   (or save it in
# ~/.local/share/bash-completion/completions/{prog})
{_posix_profiles(fn)}
{fn}() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="" cmd="" w opts words files
    local -i i=1
    (( COMP_CWORD > 0 )) && prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    while (( i < COMP_CWORD )); do
        w="${{COMP_WORDS[i]}}"
{_scan(commands, "        ", "i+=1", "esac")}        i+=1
    done
    case "$cmd:$prev" in
{chr(10).join(_value_cases(commands, answer, fn))}
    esac
    case "$cmd" in
{chr(10).join(per_command)}
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        if (( files )); then
            compopt -o filenames 2>/dev/null
            COMPREPLY+=($(compgen -f -- "$cur"))
        fi
    fi
}}
complete -F {fn} {prog}
"""


def _zsh(prog: str, commands: list[Command]) -> str:
    fn = _function(prog)
    answer = {
        "profile": 'compadd -- ${{(f)"$({fn}_profiles)"}}; return',
        "choices": "compadd -- {words}; return",
        "file": "_files; return",
        "text": "return 1",
    }
    per_command = [
        f'        "{c.name}") opts=({" ".join(f for o in c.options for f in o.flags)});'
        f" choices=({' '.join(c.words)}); files={int(c.files)} ;;"
        for c in commands
    ]
    return f"""#compdef {prog}
# zsh completion for {prog}, written by `{prog} completion zsh` from its parser.
# Load it after compinit with: source <({prog} completion zsh)
{_posix_profiles(fn)}
{fn}() {{
    local cur="${{words[CURRENT]}}" prev="${{words[CURRENT-1]}}" cmd="" w files=0
    local -a opts choices
    local -i i=2
    while (( i < CURRENT )); do
        w="${{words[i]}}"
{_scan(commands, "        ", "i+=1", "esac")}        i+=1
    done
    case "$cmd:$prev" in
{chr(10).join(_value_cases(commands, answer, fn))}
    esac
    case "$cmd" in
{chr(10).join(per_command)}
    esac
    if [[ "$cur" == -* ]]; then
        compadd -- "${{opts[@]}}"
    else
        compadd -- "${{choices[@]}}"
        (( files )) && _files
    fi
}}
compdef {fn} {prog}
"""


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_flags(option: Option) -> str:
    out = []
    for flag in option.flags:
        if flag.startswith("--"):
            out.append(f"-l {flag[2:]}")
        elif len(flag) == 2:
            out.append(f"-s {flag[1]}")
        else:
            out.append(f"-o {flag[1:]}")
    return " ".join(out)


def _fish(prog: str, commands: list[Command]) -> str:
    fn = _function(prog)
    names = " ".join(c.name for c in commands[1:])
    lines = [
        f"# fish completion for {prog}, written by `{prog} completion fish` from its parser.",
        f"# Load it with: {prog} completion fish | source   (or save it in",
        f"# ~/.config/fish/completions/{prog}.fish)",
        f"function {fn}_profiles",
        "    set -l config $AWS_CONFIG_FILE",
        '    test -n "$config"; or set config ~/.aws/config',
        "    set -l creds $AWS_SHARED_CREDENTIALS_FILE",
        '    test -n "$creds"; or set creds ~/.aws/credentials',
        "    begin",
        f'        test -r "$config"; and sed -n {_SED_CONFIG} "$config"',
        f'        test -r "$creds"; and sed -n {_SED_CREDENTIALS} "$creds"',
        "    end 2>/dev/null | sort -u",
        "end",
        f"complete -c {prog} -f",
    ]
    for command in commands:
        if command.name:
            when = f"__fish_seen_subcommand_from {command.name}"
            lines.append(
                f"complete -c {prog} -n {_fish_quote(f'not __fish_seen_subcommand_from {names}')}"
                f" -a {command.name} -d {_fish_quote(command.help)}"
            )
        else:
            when = f"not __fish_seen_subcommand_from {names}"
        cond = f"-n {_fish_quote(when)}"
        if command.name and command.words:
            lines.append(f"complete -c {prog} {cond} -a {_fish_quote(' '.join(command.words))}")
        if command.name and command.files:
            lines.append(f"complete -c {prog} {cond} -F")
        for option in command.options:
            value = {
                None: "",
                "profile": f" -x -a '({fn}_profiles)'",
                "choices": f" -x -a {_fish_quote(' '.join(option.choices))}",
                "file": " -r -F",
                "text": " -x",
            }[option.takes]
            lines.append(
                f"complete -c {prog} {cond} {_fish_flags(option)}{value}"
                f" -d {_fish_quote(option.help)}"
            )
    return "\n".join(lines) + "\n"
