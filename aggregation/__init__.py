"""The anonymous tally (DESIGN §4). Empty until the lite-tracking issue: until then every
accepted statement is kept in full by the statement store."""
