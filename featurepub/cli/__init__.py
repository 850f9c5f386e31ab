"""The `featurepub` command: a thin typer layer over the library."""
