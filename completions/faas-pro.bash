_faas_pro_completion() {
    local IFS=$'
'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \
                   COMP_CWORD=$COMP_CWORD \
                   _FAAS_PRO_COMPLETE=complete_bash $1 ) )
    return 0
}

complete -o default -F _faas_pro_completion faas-pro
