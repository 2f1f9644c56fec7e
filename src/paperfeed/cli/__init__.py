"""The command-line interface: Typer commands and Rich rendering over `paperfeed.catalog`.

Holds no logic the web app would need; it parses options, calls the catalog
and prints (tables, highlighted snippets, progress bars, or JSON).
"""
