# SPDX-License-Identifier: GPL-2.0-only
# bash completion for gecko-ctl(8), read from the usage lines its --help
# prints, so that it always knows the commands of the gecko-ctl it runs:
# the commands' words, then the keywords and flags of the command typed,
# the choices of a keyword's value ("state bound|pending"), files for FILE,
# and the options. Installed as bash-completion/completions/gecko-ctl.

_gecko_ctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} usage prev next word offer=() args=() cmd rest i k
	COMPREPLY=()
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '-j --json -h --help -V --version' -- "$cur"))
		return
	fi
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == -* ]] || args+=("${COMP_WORDS[i]}")
	done
	prev=
	((${#args[@]} == 0)) || prev=${args[-1]}
	# Each usage: "service add G coa COA contact-coa C [ha HA] [contact]".
	while read -r usage; do
		# cmd: the command's words, before its first argument; rest: its arguments, brackets gone.
		cmd=() rest=()
		for word in $usage; do
			if ((${#rest[@]} == 0)) && [[ $word =~ ^[a-z][a-z-]*$ ]]; then
				cmd+=("$word")
			else
				rest+=(${word//[\[\]]/})
			fi
		done
		# Part of the command typed: its next word.
		if ((${#args[@]} < ${#cmd[@]})); then
			for ((k = 0; k < ${#args[@]}; k++)); do
				[[ ${cmd[k]} == "${args[k]}" ]] || continue 2
			done
			offer+=("${cmd[${#args[@]}]}")
			continue
		fi
		for ((k = 0; k < ${#cmd[@]}; k++)); do
			[[ ${cmd[k]} == "${args[k]}" ]] || continue 2
		done
		# The command typed: a keyword just typed wants its value.
		for ((k = 0; k < ${#rest[@]}; k++)); do
			[[ ${#args[@]} -gt ${#cmd[@]} && ${rest[k]} == "$prev" ]] || continue
			next=${rest[k + 1]-}
			case $next in
			*'|'*) COMPREPLY=($(compgen -W "${next//|/ }" -- "$cur")) ;;
			FILE) COMPREPLY=($(compgen -f -- "$cur")) ;;
			[A-Z]*) ;;
			*) break ;;	# a flag: whatever else the command takes
			esac
			return
		done
		# Its positional arguments first (those before its first keyword): a
		# file for FILE, nothing to offer for another.
		k=$((${#args[@]} - ${#cmd[@]}))
		for ((i = 0; i <= k && i < ${#rest[@]}; i++)); do
			[[ ${rest[i]} == [A-Z]* ]] || break
		done
		if ((i > k)); then
			[[ ${rest[k]} != FILE ]] || COMPREPLY=($(compgen -f -- "$cur"))
			[[ ${rest[k]} != FILE ]] || return
			continue
		fi
		# Then its keywords and flags not typed yet.
		for word in "${rest[@]}"; do
			[[ $word =~ ^[a-z][a-z-]*$ && " ${args[*]} " != *" $word "* ]] && offer+=("$word")
		done
	done < <("${COMP_WORDS[0]}" --help 2> /dev/null | sed -n 's/^  \([a-z][^ ].*\)$/\1/p' | sed 's/  .*//')
	COMPREPLY=($(compgen -W "$(printf '%s\n' "${offer[@]}" | sort -u)" -- "$cur"))
}

complete -F _gecko_ctl gecko-ctl
