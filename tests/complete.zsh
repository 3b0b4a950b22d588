#!/usr/bin/env zsh
# zsh -f tests/complete.zsh FPATH_DIR 'aimem import --format '
#
# Completes that command line the way a person pressing Tab does: in an interactive zsh
# (on a pseudo-terminal, through zsh/zpty) with compinit and the completion functions of
# FPATH_DIR. Prints the words the completion system offered, one a line, and exits 0;
# exits 2 if the shell could not be set up. compadd, the builtin every completion
# function ends in, is wrapped to record the words that match what is typed.
emulate -L zsh
zmodload zsh/zpty zsh/zselect || exit 2
(( $# == 2 )) || { print -u2 "usage: $0 FPATH_DIR 'command line'"; exit 2 }

local work=$(mktemp -d) || exit 2
# (no EXIT trap for the clean-up: the shell that zpty starts would inherit it)
finish() { zpty -d t 2>/dev/null; rm -rf -- $work; exit $1 }
local setup=$work/setup.zsh
print -r -- "
fpath=(${(q)1} \$fpath)
autoload -Uz compinit && compinit -u -D
bindkey -e
bindkey '^I' complete-word
compadd() {
  if (( \${@[(I)-[OAD]]} )); then   # the completion system's own queries: pass them on
    builtin compadd \"\$@\"
    return
  fi
  local -a __words
  builtin compadd -O __words \"\$@\"
  (( \$#__words )) && print -rl -- \$__words >> ${(q)work}/words
  builtin compadd \"\$@\"
}
_t_done() { : >> ${(q)work}/words; print -n > ${(q)work}/done; exit }
comppostfuncs=(_t_done)
print -n > ${(q)work}/ready
" > $setup

zpty t zsh -f -i || finish 2
zpty -w t "PS1='' PROMPT='' RPROMPT=''; source ${(q)setup}"

local waited=0 junk
until [[ -e $work/ready ]]; do
  zselect -t 5 ; (( ++waited < 1000 )) || { print -u2 "zsh did not start"; finish 2 }
  zpty -r -t t junk 2>/dev/null  # keep the terminal drained
done
zpty -w -n t "$2"$'\t'
waited=0
until [[ -e $work/done ]]; do
  zselect -t 5 ; (( ++waited < 1000 )) || { print -u2 "no completion happened"; finish 2 }
  zpty -r -t t junk 2>/dev/null
done
[[ -s $work/words ]] && print -r -- "$(<$work/words)"
finish 0
