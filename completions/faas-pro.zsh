#compdef faas-pro

_faas_pro_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _FAAS_PRO_COMPLETE=complete_zsh faas-pro)
}

compdef _faas_pro_completion faas-pro
