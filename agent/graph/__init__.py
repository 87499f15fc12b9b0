"""The conversation brain: the LangGraph graph, its state, prompts, model, memory and runtime."""
