"""The lrs service: app, config, credentials, HTTP resources and the CLI."""
