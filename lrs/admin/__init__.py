"""Administration shared by the JSON admin API and the CLI: credentials by name or key, the
audit log of every admin and compliance action, the settings in effect, catalogue matches."""
