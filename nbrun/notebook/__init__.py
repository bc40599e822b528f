"""The notebook document: read, write, model helpers, text notebooks, parameters."""
