"""The service facades, one per engine; `agent.core.Services` holds one of each."""
