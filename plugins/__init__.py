"""The retention chain as pluggy hooks (DESIGN §3). Empty until the lite-tracking issue:
until then every accepted statement is kept in full."""
