# bash completion for tendctl(1)                          -*- shell-script -*-
#
# Completes tendctl's options, its commands, each command's options, and
# process names, which it asks the running tendd for (the first column of
# `tendctl status`), through the same -s/-c the command line gives.
# Install as /usr/share/bash-completion/completions/tendctl.

_tendctl_names()
{
    # $1: the word being completed; $2..: the global options that say
    # where tendd is (-s X, -c X)
    local cur=$1 names
    shift
    names=$(tendctl "$@" status 2>/dev/null | awk '{ print $1 }')
    [[ -n $names ]] || return 0
    if [[ $cur == *:* ]]; then
        # GROUP:NAME and GROUP:* (a name alone in its group is GROUP too)
        printf '%s\n' $names | awk -F: '
            NF > 1 { print $0; print $1 ":*"; next }
            { print $1 ":" $1; print $1 ":*" }' | sort -u
    else
        printf '%s\n' all $names
    fi
}

_tendctl()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion -n : || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="status start stop restart kill signal pause resume wait
        pid tail reload reopen clear events shutdown version help
        enable disable scale run"
    local globalopts="-c --config -s --socket --json -h --help --version"

    # Find the command, and the options that locate tendd before it.
    local i cmd="" cmdi=0 where=()
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        -c|--config|-s|--socket)
            where+=("${words[i]}" "${words[i+1]}")
            ((i++))
            ;;
        --config=*|--socket=*)
            where+=("${words[i]}")
            ;;
        -*)
            ;;
        *)
            cmd=${words[i]}
            cmdi=$i
            break
            ;;
        esac
    done

    case $prev in
    -c|--config)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    -s|--socket)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    -t|--timeout|-n|-e|--env|--name)
        return
        ;;
    -d|--directory)
        [[ $cmd == run ]] && COMPREPLY=($(compgen -d -- "$cur"))
        return
        ;;
    esac

    # run: after "--", a command and its arguments.
    if [[ $cmd == run ]]; then
        for ((i = cmdi + 1; i < cword; i++)); do
            if [[ ${words[i]} == -- ]]; then
                if ((i == cword - 1)); then
                    COMPREPLY=($(compgen -c -- "$cur"))
                else
                    COMPREPLY=($(compgen -f -- "$cur"))
                fi
                return
            fi
        done
    fi

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$globalopts" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    # Options of the command.
    if [[ $cur == -* ]]; then
        local opts="--help --json"
        case $cmd in
        start|stop|kill|shutdown) opts+=" --no-wait" ;;
        restart) opts+=" --no-wait --rolling" ;;
        wait) opts+=" --timeout" ;;
        tail) opts+=" -f -n" ;;
        reload) opts+=" --check" ;;
        status) opts+=" --resources" ;;
        run) opts+=" --name --wait --timeout --env --directory --" ;;
        esac
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi

    # Operands: how many came before this one, options aside.
    local nargs=0
    for ((i = cmdi + 1; i < cword; i++)); do
        case ${words[i]} in
        -t|--timeout|-n) ((i++)) ;;
        -*) ;;
        *) ((nargs++)) ;;
        esac
    done

    local names
    case $cmd in
    help)
        ((nargs == 0)) && COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        ;;
    signal)
        if ((nargs == 0)); then
            COMPREPLY=($(compgen -W "HUP INT QUIT USR1 USR2 TERM KILL
                STOP CONT ALRM WINCH" -- "${cur^^}"))
        else
            names=$(_tendctl_names "$cur" "${where[@]}")
            COMPREPLY=($(compgen -W "$names" -- "$cur"))
        fi
        ;;
    tail)
        if ((nargs == 0)); then
            names=$(_tendctl_names "$cur" "${where[@]}")
            COMPREPLY=($(compgen -W "$names" -- "$cur"))
        elif ((nargs == 1)); then
            COMPREPLY=($(compgen -W "stdout stderr" -- "$cur"))
        fi
        ;;
    scale)
        # PROGRAM: the group part of the names; then a count
        if ((nargs == 0)); then
            names=$(_tendctl_names "$cur" "${where[@]}" | grep -v '^all$' |
                sed 's/:.*//' | sort -u)
            COMPREPLY=($(compgen -W "$names" -- "$cur"))
        fi
        ;;
    status|start|stop|restart|kill|pause|resume|wait|pid|clear|events|\
    enable|disable)
        names=$(_tendctl_names "$cur" "${where[@]}")
        COMPREPLY=($(compgen -W "$names" -- "$cur"))
        ;;
    esac
    # GROUP:NAME holds a colon, which bash splits words at.
    if declare -F __ltrim_colon_completions >/dev/null; then
        __ltrim_colon_completions "$cur"
    fi
} &&
    complete -F _tendctl tendctl

# ex: filetype=sh
