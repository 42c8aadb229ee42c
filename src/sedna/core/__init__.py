"""Job objects composed from the algorithm plugins and the knowledge base."""
