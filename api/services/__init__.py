"""The rules: plain functions, session first, keyword-only arguments; they flush, never commit."""
