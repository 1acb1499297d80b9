"""One module per xAPI resource, each exporting `routes`."""
