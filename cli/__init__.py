"""The `crypto-assistant` command line: one typer app per command group (db, data, models,
knowledge, sentiment, news), over the agent's services; `serve` runs the API, `bot` the
Telegram bot."""
